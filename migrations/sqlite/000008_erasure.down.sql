DROP TABLE erasure_sweeps;
DROP TABLE erasures;
ALTER TABLE rollup_positions DROP COLUMN generation;
