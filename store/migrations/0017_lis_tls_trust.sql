-- 0017: how the appliance trusts a LIS's TLS certificate. A hospital LIS
-- rarely has a publicly trusted certificate: a destination can name the
-- CA (PEM certificates that sign the LIS's certificate, the host name is
-- checked against it) or pin the LIS's certificate itself (SHA-256 of its
-- DER bytes, as `openssl x509 -fingerprint -sha256` prints it). Neither:
-- the system's trusted roots.
ALTER TABLE lis_destinations ADD COLUMN tls_ca  TEXT NOT NULL DEFAULT '';
ALTER TABLE lis_destinations ADD COLUMN tls_pin TEXT NOT NULL DEFAULT '';
