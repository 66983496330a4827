DROP TABLE IF EXISTS rollup_actors;
DROP TABLE IF EXISTS rollup_daily;
DROP TABLE IF EXISTS rollup_hourly;
DROP TABLE IF EXISTS rollup_positions;
