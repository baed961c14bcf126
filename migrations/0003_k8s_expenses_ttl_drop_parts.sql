-- With a retention (CLICKHOUSE_TTL), expired rows leave a whole part at a time instead of each part
-- being rewritten without them. Parts never span a month (PARTITION BY toYYYYMM(hour)), so a month
-- is dropped once its last hour has expired. Setting it again is harmless.
ALTER TABLE {database}.k8s_expenses MODIFY SETTING ttl_only_drop_parts = 1;
