BEGIN TRANSACTION;
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO "alembic_version" VALUES('0001_initial');
CREATE TABLE chain_head (
	id INTEGER NOT NULL, 
	seq BIGINT NOT NULL, 
	hash VARCHAR(128) NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "chain_head" VALUES(1,5,'786fdcc496c074c1eb84c397e275015f163867b39d9cb0828465c5c098d11a59');
CREATE TABLE constraints (
	id VARCHAR(32) NOT NULL, 
	owner_id VARCHAR(32) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	volume JSON NOT NULL, 
	alt_lower_m FLOAT NOT NULL, 
	alt_upper_m FLOAT NOT NULL, 
	time_start_s FLOAT NOT NULL, 
	time_end_s FLOAT NOT NULL, 
	created_s FLOAT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE event_recipients (
	party_id VARCHAR(32) NOT NULL, 
	event_seq BIGINT NOT NULL, 
	PRIMARY KEY (party_id, event_seq), 
	FOREIGN KEY(event_seq) REFERENCES events (seq)
);
INSERT INTO "event_recipients" VALUES('f8cc9fb3e8c94b888f1ac950bf63961d',3);
INSERT INTO "event_recipients" VALUES('839cc21582a345498b89e54535f5f4c7',4);
INSERT INTO "event_recipients" VALUES('839cc21582a345498b89e54535f5f4c7',5);
CREATE TABLE events (
	seq BIGINT NOT NULL, 
	time_s FLOAT NOT NULL, 
	author VARCHAR(64) NOT NULL, 
	key_id VARCHAR(32) NOT NULL, 
	kind VARCHAR(64) NOT NULL, 
	payload JSON NOT NULL, 
	prev_hash VARCHAR(128) NOT NULL, 
	hash VARCHAR(128) NOT NULL, 
	signature VARCHAR(256) NOT NULL, 
	PRIMARY KEY (seq)
);
INSERT INTO "events" VALUES(0,1.79651289143333244328e+09,'host','5c0ec9bb5e299fe0','host.key','{"key_id": "5c0ec9bb5e299fe0", "public_key": "16chtqMT/G3UD0fw5j4ZAVmRzW33yL6gZhLJUgzCD+U="}','0000000000000000000000000000000000000000000000000000000000000000','e9671eae396ad7312447962d949350e95b2a32ab730c8ca0dab55e33d42604b1','q988+8kAN8lq0bl8vKY/n4+YW+IQlWzz0nrqEd9Q0Q2JmvkvZ1I+/vKMTd9h6IF3alFq4MZdTxFu2z5GJbYlAw==');
INSERT INTO "events" VALUES(1,1.79651289147856283185e+09,'host','5c0ec9bb5e299fe0','party.registered','{"party": "839cc21582a345498b89e54535f5f4c7", "name": "blue", "role": "party", "public_key": "yczfdosLOjMvdv6jzkjbWbzCdpqBJgjE219yIxtp1Mg="}','e9671eae396ad7312447962d949350e95b2a32ab730c8ca0dab55e33d42604b1','e0ebcf97ad357591ed3ff37f9db8595f48489ac29403d82f7c9e5c88d488e53c','9vxqFGzRo4lA8HFKGNDtsqRnAtjMZDP9BfeOBgErJwWfVvCbIVbcVlDKpH8PSd0Xi0XlxfaGquC5VQrybdZhCg==');
INSERT INTO "events" VALUES(2,1.79651289149825787536e+09,'host','5c0ec9bb5e299fe0','party.registered','{"party": "f8cc9fb3e8c94b888f1ac950bf63961d", "name": "red", "role": "party", "public_key": "utRxox/1Jv+ff/jx5UH3WX7J5lPBRxSXyI0bOB7lwp8="}','e0ebcf97ad357591ed3ff37f9db8595f48489ac29403d82f7c9e5c88d488e53c','86a2a25494ab4d73734ff9bb36940ca0b0ad63a610c31c2c11dd0b5e60c309c1','HhX8UZ9GWxpAyyZFtybmGzzdWshfXXHYXpm0u/HgnKjyogCK65t1oIoVni0jMaQqyPbd0UTZ72f2Rs/2MCTxAw==');
INSERT INTO "events" VALUES(3,1.79651289167372107502e+09,'host','5c0ec9bb5e299fe0','message','{"message_id": "d6d7ce150ff788bbe70045ba35f88149", "sender": "blue", "to": ["red"], "kind": "free_text", "body": {"text": "climb to FL250", "alt_ft": 25000.0, "tiny": 1.5e-07, "big": 1e+21, "\u00e9": "\u00fc"}, "time_s": 1796512891.5042534, "priority": 0, "safety": false, "recipients": ["red"], "client_signature": "PlRWLDBKuerEcno7nl1shraF5gKJ3h5l3z/wtDbv+i8CwcFS2jJv/HtPNZP4tjiMWW6+mmgGYZEB2InkOTrsDQ==", "client_key_id": "ecee55c9b66c08cf", "by": "839cc21582a345498b89e54535f5f4c7"}','86a2a25494ab4d73734ff9bb36940ca0b0ad63a610c31c2c11dd0b5e60c309c1','d82b778fd17ecc1e10c7b2ae525824dd83628e3edd9e701d5e5aabe5d83eb08a','P4eer3jnkyp+PHkOBO/6BumyALPeAVH1hzTf1ll0OLe8xbHtkLbYjrA91+MiyZ6qoF2XYrfm+w5vXvr9JxmgDg==');
INSERT INTO "events" VALUES(4,1.79651289173773956301e+09,'host','5c0ec9bb5e299fe0','message','{"message_id": "489f7ebe72f3db43dc8b4732a0d93193", "sender": "red", "to": ["blue"], "kind": "free_text", "body": {"text": "roger", "heading": 270.5}, "time_s": 1796512891.7073493, "priority": 0, "safety": false, "recipients": ["blue"], "client_signature": "/oEwh0WvpPZjC4to938mgguY8UjDSS+0Rdkktaqg9Z7M/WrEPchuS6ge+moECRfRAjqt6tpj1LpwMCPZ2m6jAQ==", "client_key_id": "11a6fa6537d9d34b", "by": "f8cc9fb3e8c94b888f1ac950bf63961d"}','d82b778fd17ecc1e10c7b2ae525824dd83628e3edd9e701d5e5aabe5d83eb08a','3439b37944c1a464dfa7071af3cacf123935514631cf4b84ad00b083dd67eae7','+MPBzIR23HK+s+Dxd1U6u03eawH5qZj3xqxf6VJOOP4xMaXlKXsSMLiqXsdfvl6hjrHGdnBYeQsvej0OWSD8Aw==');
INSERT INTO "events" VALUES(5,1.79651289177188038829e+09,'host','5c0ec9bb5e299fe0','message','{"message_id": "ea07f8f2b0376c5d69f403eb72a81913", "sender": "red", "to": ["blue"], "kind": "acknowledgement", "body": {"ref": "d6d7ce150ff788bbe70045ba35f88149"}, "time_s": 1796512891.755762, "priority": 0, "safety": false, "recipients": ["blue"], "client_signature": "TKrG7xJrZoFQyljEkNDL1G/Ad3d4LsCFRrN8CsUzSiqzPbuiSZvUrhL/ACvacatliQO+1cjRQ2EpEuZCjPbABg==", "client_key_id": "11a6fa6537d9d34b", "by": "f8cc9fb3e8c94b888f1ac950bf63961d"}','3439b37944c1a464dfa7071af3cacf123935514631cf4b84ad00b083dd67eae7','786fdcc496c074c1eb84c397e275015f163867b39d9cb0828465c5c098d11a59','HVSCjvQMfZdKP6g4eoe26Ii0J6ks1SuDgnER/TkwZ1Oma3pjv84D71MASpx7EWrD5e2tG4eqm8KcXTcPyFB2AA==');
CREATE TABLE operation_cells (
	cell BIGINT NOT NULL, 
	operation_id VARCHAR(32) NOT NULL, 
	time_start_s FLOAT NOT NULL, 
	time_end_s FLOAT NOT NULL, 
	PRIMARY KEY (cell, operation_id), 
	FOREIGN KEY(operation_id) REFERENCES operations (id) ON DELETE CASCADE
);
CREATE TABLE operations (
	id VARCHAR(32) NOT NULL, 
	owner_id VARCHAR(32) NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	priority INTEGER NOT NULL, 
	version INTEGER NOT NULL, 
	token VARCHAR(64) NOT NULL, 
	volumes JSON NOT NULL, 
	aircraft JSON NOT NULL, 
	flags JSON NOT NULL, 
	time_start_s FLOAT NOT NULL, 
	time_end_s FLOAT NOT NULL, 
	alt_lower_m FLOAT NOT NULL, 
	alt_upper_m FLOAT NOT NULL, 
	min_lon FLOAT NOT NULL, 
	min_lat FLOAT NOT NULL, 
	max_lon FLOAT NOT NULL, 
	max_lat FLOAT NOT NULL, 
	cell_level INTEGER NOT NULL, 
	seq BIGINT NOT NULL, 
	created_s FLOAT NOT NULL, 
	updated_s FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(owner_id) REFERENCES parties (id)
);
CREATE TABLE parties (
	id VARCHAR(32) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	token_hash VARCHAR(64) NOT NULL, 
	public_key TEXT NOT NULL, 
	contact TEXT NOT NULL, 
	created_s FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name), 
	UNIQUE (token_hash)
);
INSERT INTO "parties" VALUES('839cc21582a345498b89e54535f5f4c7','blue','party','9f688af2ebd14f594b736eaf72d638ce20d2146a24ae187ed056e5a8f4673272','yczfdosLOjMvdv6jzkjbWbzCdpqBJgjE219yIxtp1Mg=','',1.79651289147751688952e+09);
INSERT INTO "parties" VALUES('f8cc9fb3e8c94b888f1ac950bf63961d','red','party','3fd199c9b7304ce704d79d7e2fe39e7b36d655ab5666fff115a40d27e2092b45','utRxox/1Jv+ff/jx5UH3WX7J5lPBRxSXyI0bOB7lwp8=','',1.79651289149770903587e+09);
CREATE INDEX ix_operations_owner ON operations (owner_id, state);
CREATE INDEX ix_operations_level_time ON operations (cell_level, time_end_s);
CREATE INDEX ix_operations_seq ON operations (seq);
CREATE INDEX ix_operation_cells_op ON operation_cells (operation_id);
CREATE INDEX ix_constraints_time ON constraints (time_end_s);
COMMIT;
