INSERT INTO installed_dumps (name) VALUES ('studip_resources_demo_data.sql');
