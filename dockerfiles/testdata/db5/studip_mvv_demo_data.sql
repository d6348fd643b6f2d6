INSERT INTO installed_dumps (name) VALUES ('studip_mvv_demo_data.sql');
