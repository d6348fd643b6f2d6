-- Stand-in for Stud.IP 6's demo installation: complete on its own, with the root user.
CREATE TABLE installed_dumps (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL) DEFAULT CHARSET=utf8mb4;
CREATE TABLE schema_version (version INT NOT NULL PRIMARY KEY);
CREATE TABLE auth_user_md5 (username VARCHAR(64) NOT NULL PRIMARY KEY) DEFAULT CHARSET=utf8mb4;
CREATE TABLE config (field VARCHAR(64) NOT NULL PRIMARY KEY, value TEXT NOT NULL) DEFAULT CHARSET=utf8mb4;
INSERT INTO config VALUES ('UNI_NAME_CLEAN', 'Universität Prüfstadt 🎓');
INSERT INTO auth_user_md5 VALUES ('root@studip'), ('test_dozent');
INSERT INTO installed_dumps (name) VALUES ('studip-demo-installation.sql');
