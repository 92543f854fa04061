-- 0013: per-device framing strictness, and the framing deviations noted on
-- each received message.
--
-- strict_framing 0 (the default) is the tolerant receiver: an ASTM frame
-- whose checksum is right is accepted whatever its number, an HL7 message
-- whose segments end in LF or CR LF is read. 1 applies the standards' rules.
-- warnings lists, one per line, what a message did against its standard
-- that the tolerant receiver accepted, for the device's log page.
ALTER TABLE devices ADD COLUMN strict_framing INTEGER NOT NULL DEFAULT 0;
ALTER TABLE device_messages ADD COLUMN warnings TEXT NOT NULL DEFAULT '';
