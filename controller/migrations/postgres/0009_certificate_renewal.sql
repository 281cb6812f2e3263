-- Certificate renewal over the authenticated link: the certificate signed for a seat that
-- has not connected with it yet. The current one keeps working until the new one is used;
-- then the new one becomes current and the old one is refused.
ALTER TABLE agents ADD COLUMN next_cert_serial TEXT;
ALTER TABLE agents ADD COLUMN next_cert_not_after BIGINT;
ALTER TABLE agents ADD COLUMN renewed_at BIGINT;
