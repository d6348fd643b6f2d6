INSERT INTO installed_dumps (name) VALUES ('studip_resources_default_data.sql');
