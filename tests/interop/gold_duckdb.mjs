// Independent oracle for gold: computes hourly_stats, daily_analytics_summary,
// risk_scores, top_contributors and trending_pages with DuckDB SQL straight
// from a raw recentchange NDJSON file (every domain kept, as `--domains all`),
// following docs/tables.md without any WikiStream code. Rounded columns are left
// unrounded: the C++ test compares them within half a unit of the last digit.
//
// usage: node gold_duckdb.mjs <events.ndjson>   → one JSON object on stdout
import { DuckDBInstance } from '@duckdb/node-api';

const path = process.argv[2];
if (!path) {
  console.error('usage: node gold_duckdb.mjs <events.ndjson>');
  process.exit(2);
}

const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
const run = (sql) => conn.run(sql);
const rows = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJson();

const quoted = path.replaceAll("'", "''");
await run(`CREATE TABLE src AS
  SELECT json AS j, row_number() OVER () AS line
  FROM read_json_objects('${quoted}', format = 'newline_delimited')`);

// Bronze subset (ingest rules: canary dropped; event time = timestamp, else meta.dt).
await run(`CREATE TABLE bronze AS
  SELECT json_extract_string(j, '$.meta.id') AS event_id,
         json_extract_string(j, '$.type') AS event_type,
         json_extract_string(j, '$.meta.domain') AS domain,
         json_extract_string(j, '$.title') AS title,
         json_extract_string(j, '$.user') AS usr,
         coalesce(json_extract_string(j, '$.bot')::BOOLEAN, false) AS is_bot,
         json_extract_string(j, '$.length.old')::INTEGER AS lo,
         json_extract_string(j, '$.length.new')::INTEGER AS ln,
         CASE WHEN json_extract_string(j, '$.timestamp') IS NOT NULL
              THEN json_extract_string(j, '$.timestamp')::BIGINT * 1000000
              ELSE epoch_us(json_extract_string(j, '$.meta.dt')::TIMESTAMPTZ) END AS ts_us,
         line
  FROM src
  WHERE json_extract_string(j, '$.meta.domain') IS NOT NULL
    AND json_extract_string(j, '$.meta.domain') <> 'canary'`);

// Silver: first occurrence of each event_id; user classes by regular
// expressions (MediaWiki forbids ':' in account names, so a hex/colon name is
// an IPv6 address).
await run(`CREATE TABLE silver AS
  WITH firsts AS (
    SELECT * FROM bronze QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY line) = 1
  ), norm AS (
    SELECT *,
      NULLIF(trim(regexp_replace(usr, '[\\x00-\\x1F\\x7F]', '', 'g'), ' '), '') AS un,
      CASE WHEN lo IS NOT NULL AND ln IS NOT NULL THEN ln - lo
           WHEN ln IS NOT NULL AND lo IS NULL AND event_type = 'new' THEN ln END AS delta,
      split_part(domain, '.', 1) AS label,
      ts_us // 3600000000 AS abs_hour
    FROM firsts
  ), classed AS (
    SELECT *,
      CASE WHEN un IS NULL THEN 'unknown'
           WHEN regexp_full_match(un, '~[0-9]{4}-[0-9]+(-[0-9]+)*') THEN 'temporary'
           WHEN regexp_full_match(un, '((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|0[0-9][0-9]|[0-9][0-9]?)\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|0[0-9][0-9]|[0-9][0-9]?)') THEN 'ip'
           WHEN un LIKE '%:%' AND regexp_full_match(un, '[0-9A-Fa-f:.]+') THEN 'ip'
           ELSE 'registered' END AS name_class
    FROM norm
  )
  SELECT *,
    CASE WHEN is_bot THEN 'bot' ELSE name_class END AS user_type,
    (NOT is_bot AND name_class IN ('ip', 'temporary')) AS is_anon,
    CASE WHEN domain = label || '.wikipedia.org' AND label IN ('zh','ja','ko','vi','id','th') THEN 'asia_pacific'
         WHEN domain = label || '.wikipedia.org' AND label IN ('de','fr','it','es','pl','nl','ru') THEN 'europe'
         WHEN domain = label || '.wikipedia.org' AND label IN ('en','pt') THEN 'americas'
         WHEN domain = label || '.wikipedia.org' AND label IN ('ar','fa','he') THEN 'middle_east'
         ELSE 'other' END AS region,
    strftime(make_timestamp(abs_hour * 3600000000), '%Y-%m-%d') AS d,
    (abs_hour % 24)::INTEGER AS h
  FROM classed`);

const hourly = await rows(`
  SELECT d AS stat_date, h AS stat_hour, domain, any_value(region) AS region,
    count(*)::BIGINT AS total_events,
    count(DISTINCT un)::BIGINT AS unique_users,
    count(DISTINCT title)::BIGINT AS unique_pages,
    coalesce(sum(delta) FILTER (WHERE delta > 0), 0)::BIGINT AS bytes_added,
    coalesce(-sum(delta) FILTER (WHERE delta < 0), 0)::BIGINT AS bytes_removed,
    avg(abs(delta)) AS avg_edit_size,
    count(*) FILTER (WHERE is_bot)::BIGINT AS bot_edits,
    count(*) FILTER (WHERE NOT is_bot)::BIGINT AS human_edits,
    100.0 * count(*) FILTER (WHERE is_bot) / count(*) AS bot_percentage,
    count(*) FILTER (WHERE is_anon)::BIGINT AS anonymous_edits,
    100.0 * count(*) FILTER (WHERE is_anon) / count(*) AS anonymous_percentage,
    count(*) FILTER (WHERE event_type = 'edit')::BIGINT AS type_edit,
    count(*) FILTER (WHERE event_type = 'new')::BIGINT AS type_new,
    count(*) FILTER (WHERE event_type = 'log')::BIGINT AS type_log,
    count(*) FILTER (WHERE event_type = 'categorize')::BIGINT AS type_categorize,
    count(*) FILTER (WHERE event_type = 'external')::BIGINT AS type_external,
    count(*) FILTER (WHERE delta < -5000)::BIGINT AS large_deletions,
    count(*) FILTER (WHERE delta > 50000)::BIGINT AS large_additions
  FROM silver GROUP BY d, h, domain ORDER BY 1, 2, 3`);

await run(`CREATE TABLE risk AS
  WITH e AS (SELECT * FROM silver WHERE NOT is_bot AND un IS NOT NULL),
  per_hour AS (SELECT d, un, h, count(*) AS c FROM e GROUP BY d, un, h),
  hours AS (SELECT d, un, max(c) AS peak, count(*) AS active FROM per_hour GROUP BY d, un),
  agg AS (
    SELECT d, un, any_value(name_class) AS user_type, count(*) AS total,
      count(*) FILTER (WHERE delta < -5000) AS ld, count(DISTINCT domain) AS doms,
      count(*) FILTER (WHERE is_anon) AS anon, min(ts_us) AS first_seen, max(ts_us) AS last_seen
    FROM e GROUP BY d, un HAVING count(*) >= 5),
  pts AS (
    SELECT agg.*, hours.peak, hours.active,
      CASE WHEN peak > 50 THEN 40 WHEN peak > 25 THEN 25 WHEN peak > 10 THEN 10 ELSE 0 END AS vp,
      CASE WHEN ld > 3 THEN 30 WHEN ld >= 2 THEN 15 ELSE 0 END AS dp,
      CASE WHEN anon > 0.5 * total THEN 20 ELSE 0 END AS ap,
      CASE WHEN doms > 5 AND peak > 20 THEN 10 ELSE 0 END AS cp
    FROM agg JOIN hours USING (d, un))
  SELECT *, least(100, vp + dp + ap + cp) AS score,
    CASE WHEN least(100, vp + dp + ap + cp) >= 70 THEN 'HIGH'
         WHEN least(100, vp + dp + ap + cp) >= 40 THEN 'MEDIUM' ELSE 'LOW' END AS level
  FROM pts`);

const risk = await rows(`
  SELECT d AS stat_date, un AS entity_id, user_type, total::BIGINT AS total_edits, peak::BIGINT AS peak_hour_edits,
    active::BIGINT AS active_hours, ld::BIGINT AS large_deletions, doms::BIGINT AS domains_edited,
    anon::BIGINT AS anonymous_edits, vp AS velocity_points, dp AS deletion_points, ap AS anonymous_points,
    cp AS cross_domain_points, score AS risk_score, level AS risk_level, level = 'HIGH' AS alert_triggered,
    first_seen::DOUBLE AS first_seen, last_seen::DOUBLE AS last_seen
  FROM risk ORDER BY 1, 2`);

const daily = await rows(`
  WITH base AS (
    SELECT d, count(*) AS total, count(DISTINCT un) AS users, count(DISTINCT domain) AS doms,
      count(DISTINCT (domain, title)) FILTER (WHERE title IS NOT NULL) AS pages,
      count(*) FILTER (WHERE is_bot) AS bots, count(*) FILTER (WHERE is_anon) AS anon,
      count(*) FILTER (WHERE user_type = 'registered') AS reg,
      coalesce(sum(delta) FILTER (WHERE delta > 0), 0) AS added,
      coalesce(-sum(delta) FILTER (WHERE delta < 0), 0) AS removed,
      avg(abs(delta)) AS avg_size,
      count(*) FILTER (WHERE event_type = 'new') AS new_pages,
      count(*) FILTER (WHERE delta < -5000) AS ld, count(*) FILTER (WHERE delta > 50000) AS la,
      count(*) FILTER (WHERE region = 'europe') AS eu, count(*) FILTER (WHERE region = 'americas') AS am,
      count(*) FILTER (WHERE region = 'asia_pacific') AS ap, count(*) FILTER (WHERE region = 'middle_east') AS me,
      count(*) FILTER (WHERE region = 'other') AS ot,
      count(DISTINCT h) AS hours_with_events
    FROM silver GROUP BY d),
  peak AS (
    SELECT d, h, c FROM (SELECT d, h, count(*) AS c FROM silver GROUP BY d, h)
    QUALIFY row_number() OVER (PARTITION BY d ORDER BY c DESC, h) = 1),
  rs AS (
    SELECT d, count(*) AS scored, count(*) FILTER (WHERE level = 'HIGH') AS high,
      count(*) FILTER (WHERE level = 'MEDIUM') AS medium, count(*) FILTER (WHERE level = 'LOW') AS low,
      avg(score) AS avg_score, max(score) AS max_score
    FROM risk GROUP BY d)
  SELECT base.d AS summary_date, total::BIGINT AS total_events, users::BIGINT AS unique_users,
    doms::BIGINT AS active_domains, pages::BIGINT AS unique_pages_edited,
    100.0 * bots / total AS bot_percentage, 100.0 * anon / total AS anonymous_percentage,
    100.0 * reg / total AS registered_user_percentage,
    added::BIGINT AS total_bytes_added, removed::BIGINT AS total_bytes_removed,
    (added - removed)::BIGINT AS net_content_change, avg_size AS avg_edit_size_bytes,
    new_pages::BIGINT AS new_pages_created, ld::BIGINT AS large_deletions_count, la::BIGINT AS large_additions_count,
    100.0 * ld / total AS large_deletion_rate,
    coalesce(high, 0)::BIGINT AS high_risk_user_count, coalesce(medium, 0)::BIGINT AS medium_risk_user_count,
    coalesce(low, 0)::BIGINT AS low_risk_user_count, coalesce(avg_score, 0) AS platform_avg_risk_score,
    coalesce(max_score, 0) AS platform_max_risk_score, coalesce(high, 0)::BIGINT AS total_alerts_triggered,
    100.0 * eu / total AS europe_percentage, 100.0 * am / total AS americas_percentage,
    100.0 * ap / total AS asia_pacific_percentage, 100.0 * me / total AS middle_east_percentage,
    100.0 * ot / total AS other_percentage,
    peak.h AS peak_hour, peak.c::BIGINT AS peak_hour_events, total / hours_with_events AS avg_events_per_hour,
    greatest(0, least(100,
      (CASE WHEN coalesce(scored, 0) = 0 THEN 40 ELSE 40.0 * low / scored END)
      + 30.0 * reg / total
      + (CASE WHEN added > removed THEN 20 WHEN added > 0.5 * removed THEN 10 ELSE 0 END)
      + (CASE WHEN ld < 0.01 * total THEN 10 WHEN ld < 0.05 * total THEN 5 ELSE 0 END))) AS platform_health_score
  FROM base JOIN peak USING (d) LEFT JOIN rs USING (d) ORDER BY 1`);

const top = await rows(`
  SELECT d AS stat_date, domain, un AS user_normalized, count(*)::BIGINT AS edits,
    count(DISTINCT title)::BIGINT AS pages_edited,
    coalesce(sum(delta) FILTER (WHERE delta > 0), 0)::BIGINT AS bytes_added,
    coalesce(-sum(delta) FILTER (WHERE delta < 0), 0)::BIGINT AS bytes_removed,
    bool_or(is_bot) AS is_bot,
    CASE WHEN bool_or(is_bot) THEN 'bot' ELSE any_value(name_class) END AS user_type,
    min(ts_us)::DOUBLE AS first_seen, max(ts_us)::DOUBLE AS last_seen,
    row_number() OVER (PARTITION BY d, domain
      ORDER BY count(*) DESC, coalesce(sum(delta) FILTER (WHERE delta > 0), 0) DESC, encode(un)) AS rank
  FROM silver WHERE un IS NOT NULL
  GROUP BY d, domain, un
  QUALIFY rank <= 50
  ORDER BY 1, 2, rank`);

const trending = await rows(`
  WITH ph AS (
    SELECT domain, title, abs_hour, count(*) AS edits, count(DISTINCT un) AS editors,
      coalesce(sum(abs(delta)), 0) AS bytes
    FROM silver WHERE event_type IN ('edit', 'new') AND title IS NOT NULL
    GROUP BY domain, title, abs_hour),
  w AS (
    SELECT *, coalesce(sum(edits) OVER (PARTITION BY domain, title ORDER BY abs_hour
                                         RANGE BETWEEN 24 PRECEDING AND 1 PRECEDING), 0) AS prev
    FROM ph),
  s AS (SELECT *, edits / (1 + prev / 24.0) AS score FROM w WHERE edits >= 3)
  SELECT strftime(make_timestamp(abs_hour * 3600000000), '%Y-%m-%d') AS stat_date,
    (abs_hour % 24)::INTEGER AS stat_hour, domain, title, edits::BIGINT AS edits, editors::BIGINT AS unique_editors,
    bytes::BIGINT AS bytes_changed, prev::BIGINT AS prev_24h_edits, score AS trend_score,
    row_number() OVER (PARTITION BY abs_hour, domain ORDER BY round(score, 4) DESC, edits DESC, encode(title)) AS rank
  FROM s
  QUALIFY rank <= 20
  ORDER BY 1, 2, 3, rank`);

const silverCount = await rows(`SELECT count(*)::BIGINT AS n FROM silver`);
process.stdout.write(JSON.stringify({ silver_rows: silverCount[0].n, hourly, daily, risk, top, trending }));
