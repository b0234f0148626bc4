-- sqlite3 in memory: 400k rows inserted, an index, two queries. With
-- ".timer on" sqlite3 prints each statement's time.
.timer on
CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, v TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400000)
INSERT INTO t(k, v) SELECT (i * 7919) % 100003, printf('%032d', i) FROM n;
CREATE INDEX t_k ON t(k);
SELECT count(*), sum(length(v)) FROM t WHERE k < 50000;
SELECT k, count(*) FROM t GROUP BY k ORDER BY 2 DESC LIMIT 3;
