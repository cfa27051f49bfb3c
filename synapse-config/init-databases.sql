-- Synapse and Rounds each get their own database in the one Postgres (docker-compose.yml).
CREATE DATABASE synapse WITH ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0 OWNER rounds;
CREATE DATABASE rounds OWNER rounds;
