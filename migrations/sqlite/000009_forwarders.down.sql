DROP TABLE forwarder_dead_letters;
DROP TABLE forwarders;
