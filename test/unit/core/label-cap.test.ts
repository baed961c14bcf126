import { describe, expect, it } from 'vitest';
import { createLabelCap, OTHER_LABEL_VALUE } from '../../../core/label-cap.ts';

describe('createLabelCap', () => {
  it('keeps the first max values and reports later ones as other', () => {
    const cap = createLabelCap(2);
    expect(['a', 'b', 'c', 'a', 'd', 'b'].map(cap)).toEqual(['a', 'b', OTHER_LABEL_VALUE, 'a', OTHER_LABEL_VALUE, 'b']);
    expect(cap.size).toBe(2);
  });

  it('always keeps known values, beyond the cap', () => {
    const cap = createLabelCap(1, ['tenant-a', 'tenant-b']);
    expect(['x', 'y', 'tenant-b', 'tenant-a'].map(cap)).toEqual(['x', OTHER_LABEL_VALUE, 'tenant-b', 'tenant-a']);
  });

  it('stays bounded whatever the traffic: 300 invented values give at most max + 1 distinct labels', () => {
    const cap = createLabelCap(50);
    const labels = new Set(Array.from({ length: 300 }, (_, i) => cap(`t${i}`)));
    expect(labels.size).toBe(51);
  });
});
