-- A counter per kind of shared state, bumped with every change notification, so a process that
-- may have missed a NOTIFY (connection lost) can tell by one cheap read whether to reload.

CREATE TABLE change_versions (
  topic    text   PRIMARY KEY,
  version  bigint NOT NULL
);
INSERT INTO change_versions (topic, version) VALUES ('catalog', 0), ('keys', 0);
