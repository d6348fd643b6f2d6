INSERT INTO auth_user_md5 VALUES ('test_dozent');
INSERT INTO installed_dumps (name) VALUES ('studip_demo_data.sql');
