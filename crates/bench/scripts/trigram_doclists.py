#!/usr/bin/env python3
"""What bounds the substring search on SQLite (docs/performance.md, issue 24).

Builds the bench's nick names (seed.rs: the same syllables and splitmix64) for N users into
an FTS5 trigram table shaped as Roster's (external content, `users_nick_fts`), then times,
for 300 needles made as `search-fuzzy` makes them, the statement's parts in SQLite alone:
every matching rowid, the first ten in rowid order, and the page Roster reads (rows by
rowid, sorted, ten). Also prints how many doclist entries the needles' trigrams hold.

    python3 crates/bench/scripts/trigram_doclists.py 1000000 /tmp/trigrams.db
"""
import random
import sqlite3
import sys
import time

MASK = (1 << 64) - 1
SYLLABLES = ["ka", "lo", "mi", "ra", "to", "su", "ne", "vi", "da", "po", "le", "ju", "sa",
             "ri", "no", "be", "fa", "go", "hi", "ke", "lu", "ma", "ni", "or", "pe", "qui",
             "ro", "si", "ta", "ul", "ve", "zo"]


def mix(i):
    z = (i + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def syllables(bits, count):
    out = ""
    for _ in range(count):
        out += SYLLABLES[bits % 32]
        bits //= 32
    return out[:1].upper() + out[1:]


def names(i):
    h = mix(i)
    return syllables(h, 2), syllables(h >> 10, 3)


def build(db, users):
    db.execute("CREATE TABLE users (seq INTEGER PRIMARY KEY, nick_name TEXT)")
    db.execute("CREATE VIRTUAL TABLE users_nick_fts USING fts5(nick_name, content='users', "
               "content_rowid='seq', tokenize='trigram')")
    for start in range(0, users, 50_000):
        rows = [(i + 1, "%s %s" % names(i)) for i in range(start, min(users, start + 50_000))]
        db.executemany("INSERT INTO users VALUES (?, ?)", rows)
        db.executemany("INSERT INTO users_nick_fts (rowid, nick_name) VALUES (?, ?)", rows)
        db.commit()
    db.execute("INSERT INTO users_nick_fts (users_nick_fts) VALUES ('optimize')")
    db.commit()


def median_ms(db, sql, needles):
    times = []
    for needle in needles:
        started = time.perf_counter()
        db.execute(sql, ('"%s"' % needle,)).fetchall()
        times.append(time.perf_counter() - started)
    times.sort()
    return times[len(times) // 2] * 1e3, times[len(times) * 9 // 10] * 1e3


def main():
    users, path = int(sys.argv[1]), sys.argv[2]
    db = sqlite3.connect(path)
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'users'").fetchone():
        build(db, users)
    random.seed(1)
    needles = [names(random.randrange(users))[1][1:6].lower() for _ in range(300)]
    match = "SELECT rowid FROM users_nick_fts WHERE users_nick_fts MATCH ?"
    for label, sql in [
        ("every matching rowid", match),
        ("first 10 rowids", match + " LIMIT 10"),
        ("the page (rows, sorted, 10)", "SELECT seq, nick_name FROM users WHERE seq IN (%s) "
                                        "ORDER BY nick_name LIMIT 10" % match),
    ]:
        print("%-28s median %.3f ms, p90 %.3f ms" % ((label,) + median_ms(db, sql, needles)))
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS vocab USING fts5vocab('users_nick_fts', 'row')")
    terms, per_term = db.execute("SELECT COUNT(*), AVG(doc) FROM vocab").fetchone()
    read, matched = [], []
    for needle in needles:
        grams = [needle[i:i + 3] for i in range(len(needle) - 2)]
        marks = ",".join("?" * len(grams))
        read.append(db.execute("SELECT SUM(doc) FROM vocab WHERE term IN (%s)" % marks,
                               grams).fetchone()[0] or 0)
        matched.append(db.execute("SELECT COUNT(*) FROM users_nick_fts WHERE users_nick_fts "
                                  "MATCH ?", ('"%s"' % needle,)).fetchone()[0])
    read.sort()
    matched.sort()
    print("%d distinct trigrams, %.0f rows each on average" % (terms, per_term))
    print("doclist entries read per needle: median %d; rows matched: median %d, max %d"
          % (read[len(read) // 2], matched[len(matched) // 2], matched[-1]))


if __name__ == "__main__":
    main()
