-- The latest live row of every key over the table of migration 0004: FINAL leaves out the keys
-- whose latest row is a deletion row, so is_deleted is always 0 here and is not a column of the
-- view, which keeps the columns it had. (A view's SELECT * is expanded when it is created, hence
-- the replacement.)
CREATE OR REPLACE VIEW {database}.k8s_expenses_final AS
SELECT * EXCEPT (is_deleted) FROM {database}.k8s_expenses FINAL;
