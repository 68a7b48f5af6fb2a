-- The table the flow writes; (device, ts) is the key the upsert uses.
CREATE TABLE IF NOT EXISTS sensor_readings (
    device text NOT NULL,
    ts timestamptz NOT NULL,
    value double precision NOT NULL,
    unit text NOT NULL,
    PRIMARY KEY (device, ts)
);
