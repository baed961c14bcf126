// Queries the read-only guard once let through although each reads the table `users`, outside the
// allowlist. The unit test checks the guard refuses them; the integration test runs them on the
// engine, next to a real table users, to show that each does read it.
export const GUARD_BYPASSES: [why: string, sql: string][] = [
  ['an alias named fill before FROM (taken for WITH FILL FROM)', 'SELECT s AS fill FROM users'],
  ['an alias named array before JOIN (taken for ARRAY JOIN)', 'SELECT * FROM k8s_expenses AS array JOIN users USING (pod)'],
  ['a comma after JOIN ... USING (...)', 'SELECT * FROM k8s_expenses JOIN k8s_expenses_final USING (pod), users'],
  ['a comma after JOIN ... ON ...', 'SELECT * FROM k8s_expenses AS a JOIN k8s_expenses_final AS b ON a.pod = b.pod, users'],
  ['a table aliased with its own name', 'SELECT * FROM users AS users'],
  ['a CTE body reading the table the CTE is named after', 'WITH users AS (SELECT * FROM users) SELECT * FROM users'],
  ['a CTE of a subquery used outside it', 'SELECT * FROM users, (WITH users AS (SELECT 1) SELECT 1) AS x'],
  ['IN a parenthesized table', 'SELECT 1 IN (users)'],
  ['IN a doubly parenthesized table', 'SELECT 1 IN ((users))'],
];
