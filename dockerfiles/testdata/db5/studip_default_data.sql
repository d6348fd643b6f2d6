-- Not ASCII, to see the dump read as utf8mb4.
INSERT INTO config VALUES ('UNI_NAME_CLEAN', 'Universität Prüfstadt 🎓');
INSERT INTO installed_dumps (name) VALUES ('studip_default_data.sql');
