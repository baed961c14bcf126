// The names the read-only SQL guard refuses. The guard's main protection is an allowlist (statement
// kinds; tables in FROM / JOIN / IN); these lists are the second layer, applied anywhere in a query.
// A test compares TABLE_FUNCTIONS with the embedded engine's system.table_functions, so an engine
// upgrade that adds a table function fails the build until the name is added here.

/** Every ClickHouse table function (lower case), from system.table_functions plus server-only ones. */
export const TABLE_FUNCTIONS: ReadonlySet<string> = new Set(
  [
    'SQLStandardValues', 'arrowFlight', 'arrowflight', 'arrowstream', 'azureBlobStorage', 'azureBlobStorageCluster',
    'cluster', 'clusterAllReplicas', 'cosn', 'deltaLake', 'deltaLakeAzure', 'deltaLakeAzureCluster',
    'deltaLakeCluster', 'deltaLakeLocal', 'deltaLakeS3', 'deltaLakeS3Cluster', 'dictionary', 'eval', 'executable',
    'file', 'fileCluster', 'filesystem', 'format', 'fuzzJSON', 'fuzzQuery', 'gcs', 'generateRandom',
    'generateSeries', 'generate_series', 'hdfs', 'hdfsCluster', 'hive', 'hudi', 'hudiCluster', 'iceberg',
    'icebergAzure', 'icebergAzureCluster', 'icebergCluster', 'icebergHDFS', 'icebergHDFSCluster', 'icebergLocal',
    'icebergLocalCluster', 'icebergS3', 'icebergS3Cluster', 'input', 'jdbc', 'loop', 'merge',
    'mergeTreeAnalyzeIndexes', 'mergeTreeAnalyzeIndexesUUID', 'mergeTreeIndex', 'mergeTreePartInfo',
    'mergeTreeProjection', 'mergeTreeTextIndex', 'mongodb', 'mysql', 'null', 'numbers', 'numbers_mt', 'odbc',
    'oss', 'paimon', 'paimonAzure', 'paimonAzureCluster', 'paimonCluster', 'paimonHDFS', 'paimonHDFSCluster',
    'paimonLocal', 'paimonS3', 'paimonS3Cluster', 'postgresql', 'primes', 'prometheusQuery',
    'prometheusQueryRange', 'python', 'redis', 'remote', 'remoteSecure', 's3', 's3Cluster', 'sqlite',
    'timeSeriesData', 'timeSeriesMetrics', 'timeSeriesSamples', 'timeSeriesSelector', 'timeSeriesTags', 'url',
    'urlCluster', 'values', 'view', 'viewExplain', 'viewIfPermitted', 'ytsaurus', 'zeros', 'zeros_mt',
  ].map((name) => name.toLowerCase()),
);

/**
 * Scalar functions that read files, settings, dictionaries or other tables, reveal the host, or
 * stall the engine (lower case). Prefixes: `dict` (dictGet*, dictHas, ...), `__` (internal).
 */
const DENIED_FUNCTIONS: ReadonlySet<string> = new Set(
  [
    'file', // reads a file into a String
    'getSetting', 'getSettingOrDefault', 'getServerSetting', 'getMergeTreeSetting', 'getClientHTTPHeader',
    'globalVariable', 'getMacro', 'getServerPort', 'hasColumnInTable', 'getMaxTableNameLengthForDatabase',
    'filesystemAvailable', 'filesystemCapacity', 'filesystemUnreserved',
    'joinGet', 'joinGetOrNull', // read a Join-engine table named in a string
    'catboostEvaluate', 'evalMLMethod', 'naiveBayesClassifier', // load models from paths
    'addressToLine', 'addressToLineWithInlines', 'addressToSymbol', 'demangle',
    'sleep', 'sleepEachRow',
    'generateSerialID', // writes a counter
    'fuzzQuery', 'fuzzBits',
  ].map((name) => name.toLowerCase()),
);

const DENIED_FUNCTION_PREFIXES = ['dict', '__'];

export function isDeniedFunction(lowerName: string): boolean {
  return DENIED_FUNCTIONS.has(lowerName) || DENIED_FUNCTION_PREFIXES.some((p) => lowerName.startsWith(p));
}

/** Databases a query may not name (lower case). */
export const SYSTEM_DATABASES: ReadonlySet<string> = new Set(['system', 'information_schema']);

const ONLY_READS = 'queries may only read';

/** Bare keywords refused anywhere in a query, with the reason given to the user. */
export const FORBIDDEN_KEYWORDS: ReadonlyMap<string, string> = new Map([
  ['SETTINGS', 'SETTINGS is not allowed: queries cannot change settings'],
  ['FORMAT', 'FORMAT is not allowed: the output format is chosen by the caller (--format JSONEachRow)'],
  ['INTO', `INTO is not allowed (INSERT INTO, INTO OUTFILE): ${ONLY_READS}`],
  ['OUTFILE', `OUTFILE is not allowed: ${ONLY_READS}`],
  ['INFILE', `INFILE is not allowed: ${ONLY_READS}`],
  ...[
    'INSERT', 'ALTER', 'DROP', 'CREATE', 'ATTACH', 'DETACH', 'TRUNCATE', 'RENAME', 'OPTIMIZE', 'SYSTEM', 'KILL',
    'GRANT', 'REVOKE', 'SET', 'USE', 'BACKUP', 'RESTORE', 'DELETE', 'UPDATE', 'EXCHANGE', 'UNDROP', 'MOVE', 'WATCH',
  ].map((kw): [string, string] => [kw, `${kw} is not allowed: ${ONLY_READS}`]),
]);

/** Functions whose arguments use FROM / IN as keywords: EXTRACT(DAY FROM t), position(a IN b), ... */
export const KEYWORD_ARGUMENT_FUNCTIONS: ReadonlySet<string> = new Set(['extract', 'trim', 'substring', 'substr', 'overlay', 'position']);

export const EXPLAIN_KINDS: ReadonlySet<string> = new Set(['AST', 'SYNTAX', 'PLAN', 'PIPELINE', 'ESTIMATE']);
