-- 0015: one index for monitoring readings instead of two. observations_reading
-- (unique: patient, metric, device, time) and observations_metric (patient,
-- metric, time) indexed the same rows; every reading paid for both. With the
-- time before the device, the unique index serves what observations_metric
-- served (a patient's readings of one metric in a time range, newest first)
-- and still refuses a second reading of the same metric from the same device
-- at the same time: uniqueness does not depend on the order of the columns,
-- and ON CONFLICT names them as a set.
DROP INDEX observations_metric;
DROP INDEX observations_reading;
CREATE UNIQUE INDEX observations_reading ON observations(org_id, patient_id, metric_key, measured_at, external_device)
    WHERE metric_key IS NOT NULL;
