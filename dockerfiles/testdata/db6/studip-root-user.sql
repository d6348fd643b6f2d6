INSERT INTO auth_user_md5 VALUES ('root@studip');
INSERT INTO installed_dumps (name) VALUES ('studip-root-user.sql');
