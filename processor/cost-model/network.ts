// Network egress: the increase of kubecost_pod_network_egress_bytes_total in the hour, per class,
// priced per GiB by the class's kubecost_network_*_egress_cost (OpenCost's queries: cross-zone
// traffic uses the zone price, cross-region the region price, internet the internet price;
// traffic within the zone is free).
import { Egress } from './metrics.ts';
import { GIB } from './options.ts';
import type { DefaultPrices } from './types.ts';

/** Egress prices of one hour: $ per GiB per class, NaN where the price series was missing. */
export interface EgressPrices {
  zone: number;
  region: number;
  internet: number;
}

export interface EgressCost {
  cost: number;
  defaulted: boolean;
}

/** The cost of `bytes` of egress of class `egressClass` (an Egress value). */
export function egressCost(egressClass: string, bytes: number, prices: EgressPrices, defaults: DefaultPrices, out: EgressCost): EgressCost {
  out.cost = 0;
  out.defaulted = false;
  if (egressClass === Egress.SameZone || bytes === 0) return out;
  let price: number;
  let fallback: number;
  if (egressClass === Egress.CrossZone) {
    price = prices.zone;
    fallback = defaults.zoneEgressGiB;
  } else if (egressClass === Egress.CrossRegion) {
    price = prices.region;
    fallback = defaults.regionEgressGiB;
  } else {
    price = prices.internet;
    fallback = defaults.internetEgressGiB;
  }
  if (Number.isNaN(price)) {
    price = fallback;
    out.defaulted = true;
  }
  out.cost = (bytes / GIB) * price;
  return out;
}
