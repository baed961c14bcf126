-- The latest row of every key, whether or not the merges have run yet: what most questions want.
CREATE VIEW IF NOT EXISTS {database}.k8s_expenses_final AS
SELECT * FROM {database}.k8s_expenses FINAL;
