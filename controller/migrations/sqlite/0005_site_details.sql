-- A site's public description for the national "lieux de médiation numérique" export
-- (address, SIRET, contacts, services), as JSON of `commune_controller::lieux::SiteDetails`.
ALTER TABLE sites ADD COLUMN details_json TEXT;
