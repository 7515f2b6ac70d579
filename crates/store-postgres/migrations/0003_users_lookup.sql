-- Operators look users up by username, e-mail or sub (the console's Audit filter and user
-- search); without these, each lookup reads the whole users table.
CREATE INDEX users_by_username ON users (username);
CREATE INDEX users_by_email ON users (email);
CREATE INDEX users_by_sub ON users (sub);
