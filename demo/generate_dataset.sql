-- =============================================================================
-- pg_retention demo dataset generator
--
-- Builds schema "shop": a fictional Chinese e-commerce shop with several years
-- of history (2019-01-01 .. 2026-06-30 UTC), full of personal data that a
-- retention policy has to deal with:
--
--   shop.accounts    scale * 5 000   customers (Hanzi / pinyin / English names,
--                                    e-mail, mobile phone, PRC resident ID with
--                                    a valid check character, address ...)
--   shop.orders      ~scale * 40 000 orders with shipping name/phone/address
--   shop.payments    one per paid (non-cancelled) order; card numbers pass Luhn
--   shop.access_log  ~scale * 200 000 web requests (~20 % anonymous)
--
-- Plain SQL, core PostgreSQL only (no extension objects). Run it against an
-- empty database (it drops and recreates schema "shop"):
--
--   psql -v seed=42 -v scale=1 -f demo/generate_dataset.sql
--
-- Both variables are optional (defaults: seed 42, scale 1; scale may be
-- fractional, e.g. 0.1). The output is deterministic: setseed() is called once
-- and every random() draw happens in CREATE TABLE AS ... FROM generate_series,
-- i.e. in a fixed row order, into temporary "draw" tables. All later steps are
-- pure functions of those draws, so two runs with the same seed (and the same
-- PostgreSQL build) produce identical table contents, whatever the client's
-- TimeZone. Nothing is derived from the clock. Every timestamp lies in
-- [2019-01-01, 2026-07-01) UTC; the demo is evaluated with as_of = '2026-07-01'.
-- Load time at scale 1 is a few seconds.
-- =============================================================================

\set ON_ERROR_STOP on
\set QUIET on

\if :{?seed}
\else
  \set seed 42
\endif
\if :{?scale}
\else
  \set scale 1
\endif

SET client_min_messages = warning;
SET TimeZone = 'UTC';                      -- timestamp arithmetic is in UTC
SET max_parallel_workers_per_gather = 0;   -- keep every plan single-process
SET synchronize_seqscans = off;
SET jit = off;                             -- temp-table estimates are poor; JIT only costs time
SET work_mem = '128MB';                    -- sorts of the staging tables stay in memory

BEGIN;

-- Row-count targets derived from :scale
SELECT greatest(1, round(5000   * (:'scale')::numeric))::int AS n_accounts,
       greatest(1, round(40000  * (:'scale')::numeric))::int AS n_orders_target,
       greatest(1, round(160000 * (:'scale')::numeric))::int AS n_logs_user,
       greatest(1, round(40000  * (:'scale')::numeric))::int AS n_logs_anon
\gset

-- ---------------------------------------------------------------------------
-- 1. Schema
-- ---------------------------------------------------------------------------
DROP SCHEMA IF EXISTS shop CASCADE;
CREATE SCHEMA shop;

CREATE TABLE shop.accounts (
    account_id  bigint PRIMARY KEY,
    full_name   text NOT NULL,
    email       text NOT NULL UNIQUE,
    phone       text,
    national_id text,
    birth_date  date,
    address     text,
    city        text,
    postal_code text,
    created_at  timestamptz NOT NULL,
    closed_at   timestamptz
);

CREATE TABLE shop.orders (
    order_id     bigint PRIMARY KEY,
    account_id   bigint,                 -- FK -> accounts ON DELETE SET NULL (section 7)
    ordered_at   timestamptz NOT NULL,
    ship_name    text,
    ship_phone   text,
    ship_address text,
    total        numeric(10,2) NOT NULL,
    status       text NOT NULL
);

CREATE TABLE shop.payments (
    payment_id  bigint PRIMARY KEY,
    order_id    bigint NOT NULL,        -- FK -> orders ON DELETE RESTRICT (section 7)
    paid_at     timestamptz NOT NULL,
    amount      numeric(10,2) NOT NULL,
    method      text NOT NULL,
    card_number text,
    payer_ip    inet
);

CREATE TABLE shop.access_log (
    log_id     bigint PRIMARY KEY,
    account_id bigint,                   -- FK -> accounts ON DELETE CASCADE (section 7)
    at         timestamptz NOT NULL,
    ip         inet NOT NULL,
    user_agent text NOT NULL,
    path       text NOT NULL,
    status     int NOT NULL
);

-- ---------------------------------------------------------------------------
-- 2. Session-local helpers (pg_temp: they vanish with the session and are
--    never part of schema "shop"). All are deterministic.
-- ---------------------------------------------------------------------------

-- Uniform pick from an array with a draw r in [0,1)
CREATE FUNCTION pg_temp.pick(arr anyarray, r float8) RETURNS anyelement
LANGUAGE sql IMMUTABLE AS $$
    SELECT arr[1 + floor(r * cardinality(arr))::int]
$$;

-- Repeat vals[i] weights[i] times (turns a weighted pick into a uniform one)
CREATE FUNCTION pg_temp.expand(vals anyarray, weights int[]) RETURNS anyarray
LANGUAGE sql IMMUTABLE AS $$
    SELECT array_agg(vals[i] ORDER BY i, k)
    FROM generate_subscripts(vals, 1) AS i, generate_series(1, weights[i]) AS k
$$;

-- ISO 7064 MOD 11-2 check character of the first 17 digits of a PRC ID
CREATE FUNCTION pg_temp.prc_id_check(body text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT substr('10X98765432',
                  1 + (sum(substr(body, i, 1)::int
                           * (ARRAY[7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2])[i]) % 11)::int,
                  1)
    FROM generate_series(1, 17) AS i
$$;

-- Luhn check digit for a card number payload (all digits but the last)
CREATE FUNCTION pg_temp.luhn_digit(payload text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT ((10 - sum(CASE WHEN (length(payload) - i) % 2 = 0
                           THEN (2 * d) / 10 + (2 * d) % 10   -- doubled digit
                           ELSE d END) % 10) % 10)::text
    FROM (SELECT i, substr(payload, i, 1)::int AS d
          FROM generate_series(1, length(payload)) AS i) AS s
$$;

-- 16-digit card number: 6-digit BIN + 9 account digits + Luhn digit
CREATE FUNCTION pg_temp.card(bin text, r float8) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT p || pg_temp.luhn_digit(p)
    FROM (SELECT bin || lpad(floor(r * 1e9)::bigint::text, 9, '0') AS p) AS s
$$;

-- Mainland-China mobile number (11 digits, valid carrier prefix)
CREATE FUNCTION pg_temp.phone(r_prefix float8, r_num float8) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT pg_temp.pick(ARRAY['130','131','132','133','134','135','136','137','138','139',
                              '150','151','152','153','155','156','157','158','159',
                              '166',
                              '170','171','172','173','174','175','176','177','178',
                              '180','181','182','183','184','185','186','187','188','189',
                              '198','199'], r_prefix)
           || lpad(floor(r_num * 100000000)::bigint::text, 8, '0')
$$;

-- IPv4 address in a typical Chinese ISP /8
CREATE FUNCTION pg_temp.ipv4(r1 float8, r2 float8) RETURNS inet
LANGUAGE sql IMMUTABLE AS $$
    SELECT (pg_temp.pick(ARRAY[36,39,42,58,59,60,61,101,106,110,111,112,113,114,115,116,117,
                               119,120,121,122,123,124,125,171,175,180,182,183,202,211,218,
                               219,220,221,222,223], r1)::text
            || '.' || ((x >> 16) & 255)::text
            || '.' || ((x >> 8) & 255)::text
            || '.' || (1 + (x & 255) % 254)::text)::inet
    FROM (SELECT floor(r2 * 16777216)::bigint AS x) AS s
$$;

-- IPv6 address in China Telecom / Unicom / Mobile space
CREATE FUNCTION pg_temp.ipv6(r1 float8, r2 float8, r3 float8) RETURNS inet
LANGUAGE sql IMMUTABLE AS $$
    SELECT format('%s:%s:%s:%s::%s:%s',
                  pg_temp.pick(ARRAY['240e','2408','2409'], r1),
                  to_hex((x >> 32) & 65535), to_hex((x >> 16) & 65535), to_hex(x & 65535),
                  to_hex((y >> 16) & 65535), to_hex(y & 65535))::inet
    FROM (SELECT floor(r2 * 281474976710656)::bigint AS x,
                 floor(r3 * 4294967296)::bigint AS y) AS s
$$;

-- A moment between lo and hi: a uniformly drawn day with a Beijing-time daily
-- cycle (busy evenings, quiet nights). May fall outside [lo, hi] on the first
-- or last day; fit_ts() below then replaces it by a uniform moment in range.
CREATE FUNCTION pg_temp.cycle_ts(lo timestamptz, hi timestamptz,
                                 r_day float8, r_hour float8, r_sec float8)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT ((lo AT TIME ZONE 'Asia/Shanghai')::date
            + floor(r_day * ((hi AT TIME ZONE 'Asia/Shanghai')::date
                             - (lo AT TIME ZONE 'Asia/Shanghai')::date + 1))::int
            + pg_temp.pick(pg_temp.expand(          -- hour of day 0..23, weighted
                  ARRAY[ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,10,11,12,13,14,15,16,17,18,19,20,21,22,23],
                  ARRAY[30,16, 8, 5, 4, 5,10,22,35,45,52,50,50,48,48,48,46,44,45,55,68,75,65,48]),
                  r_hour) * interval '1 hour'
            + floor(r_sec * 3600) * interval '1 second'
           ) AT TIME ZONE 'Asia/Shanghai'
$$;

CREATE FUNCTION pg_temp.fit_ts(ts timestamptz, lo timestamptz, hi timestamptz, r float8)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN ts BETWEEN lo AND hi THEN ts
                ELSE lo + floor(r * extract(epoch FROM hi - lo)) * interval '1 second' END
$$;

-- Postal address: '上海市徐汇区漕溪北路 88 号 3 栋 1201 室'
CREATE FUNCTION pg_temp.address(province text, city text, district text, streets text[],
                                r_street float8, r_no float8, r_bldg float8, r_floor float8,
                                r_room float8)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(province, '') || city || district || pg_temp.pick(streets, r_street)
           || ' ' || (1 + floor(power(r_no, 1.6) * 1500)::int)::text || ' 号 '
           || CASE WHEN r_bldg < 0.75
                   THEN (1 + floor(r_bldg / 0.75 * 24)::int)::text || ' 栋 '
                   ELSE '' END
           || ((1 + floor(r_floor * 32)::int) * 100 + 1 + floor(r_room * 4)::int)::text || ' 室'
$$;

-- ---------------------------------------------------------------------------
-- 3. Reference data (fixed, no randomness)
-- ---------------------------------------------------------------------------

-- Regions: resident-ID region code, city, district, postal code, streets, weight
CREATE TEMP TABLE lk_region (idx int PRIMARY KEY, code text, province text, city text,
                             district text, postal text, weight int, streets text[]);
INSERT INTO lk_region VALUES
 ( 1,'110101',NULL,    '北京市','东城区',  '100010',4,ARRAY['东长安街','王府井大街','东四北大街','安定门内大街']),
 ( 2,'110105',NULL,    '北京市','朝阳区',  '100020',6,ARRAY['建国路','朝阳北路','望京街','酒仙桥路']),
 ( 3,'110108',NULL,    '北京市','海淀区',  '100080',6,ARRAY['中关村大街','学院路','知春路','海淀大街']),
 ( 4,'310101',NULL,    '上海市','黄浦区',  '200001',4,ARRAY['南京东路','淮海中路','西藏中路','河南南路']),
 ( 5,'310104',NULL,    '上海市','徐汇区',  '200030',6,ARRAY['漕溪北路','衡山路','肇嘉浜路','虹桥路']),
 ( 6,'310115',NULL,    '上海市','浦东新区','200120',8,ARRAY['世纪大道','张杨路','陆家嘴环路','浦东南路']),
 ( 7,'440304','广东省','深圳市','福田区',  '518048',5,ARRAY['福华路','益田路','深南中路','福中路']),
 ( 8,'440305','广东省','深圳市','南山区',  '518052',6,ARRAY['深南大道','南海大道','科苑路','后海大道']),
 ( 9,'440106','广东省','广州市','天河区',  '510630',6,ARRAY['天河路','体育西路','天河北路','中山大道西']),
 (10,'330106','浙江省','杭州市','西湖区',  '310013',5,ARRAY['文三路','天目山路','古墩路','教工路']),
 (11,'330102','浙江省','杭州市','上城区',  '310002',3,ARRAY['解放路','清泰街','望江路','延安路']),
 (12,'510107','四川省','成都市','武侯区',  '610041',5,ARRAY['人民南路四段','科华北路','武侯祠大街','玉林南路']),
 (13,'320106','江苏省','南京市','鼓楼区',  '210009',4,ARRAY['中山北路','湖南路','北京西路','广州路']),
 (14,'320505','江苏省','苏州市','虎丘区',  '215011',2,ARRAY['狮山路','长江路','竹园路','塔园路']),
 (15,'420106','湖北省','武汉市','武昌区',  '430061',4,ARRAY['中南路','武珞路','中北路','徐东大街']),
 (16,'610113','陕西省','西安市','雁塔区',  '710061',3,ARRAY['小寨东路','长安南路','雁塔路','科技路']),
 (17,'500103',NULL,    '重庆市','渝中区',  '400010',3,ARRAY['民权路','中山一路','解放东路','大坪正街']),
 (18,'120101',NULL,    '天津市','和平区',  '300041',2,ARRAY['南京路','滨江道','营口道','成都道']),
 (19,'370202','山东省','青岛市','市南区',  '266001',2,ARRAY['香港中路','中山路','东海西路','南京路']),
 (20,'350203','福建省','厦门市','思明区',  '361001',2,ARRAY['湖滨南路','中山路','厦禾路','莲前东路']);

-- User agents with weights for logged-in users and for anonymous traffic
CREATE TEMP TABLE lk_ua (idx int PRIMARY KEY, w_user int, w_anon int, ua text);
INSERT INTO lk_ua VALUES
 ( 1,10, 8,'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'),
 ( 2, 4, 3,'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91'),
 ( 3, 2, 2,'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0'),
 ( 4, 4, 3,'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15'),
 ( 5,12,12,'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1'),
 ( 6,14,12,'Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.44(0x18002c2e) NetType/WIFI Language/zh_CN'),
 ( 7,16,14,'Mozilla/5.0 (Linux; Android 13; V2148A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/5235 MMWEBSDK/20230805 MicroMessenger/8.0.42.2460(0x28002A58) WeChat/arm64 Weixin NetType/4G Language/zh_CN ABI/arm64'),
 ( 8, 6, 4,'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Ariver/1.0.15 ChannelId(18) Nebula AlipayDefined(nt:WIFI,ws:390|844|3.0) AliApp(AP/10.5.36.6000) AlipayClient/10.5.36.6000 Language/zh-Hans Region/CN'),
 ( 9, 8, 5,'Mozilla/5.0 (Linux; U; Android 12; zh-CN; PGKM10 Build/SP1A.210812.016) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/69.0.3497.100 UWS/3.22.2.59 Mobile Safari/537.36 NebulaSDK/1.8.100112 Nebula AlipayDefined(nt:WIFI,ws:360|0|3.0) AliApp(AP/10.5.26.8000) AlipayClient/10.5.26.8000 Language/zh-Hans Region/CN'),
 (10, 8, 8,'Mozilla/5.0 (Linux; Android 13; 2211133C) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36'),
 (11,10, 8,'Mozilla/5.0 (Linux; Android 10; HarmonyOS; NOH-AN00; HMSCore 6.12.0.302) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.88 HuaweiBrowser/14.0.2.311 Mobile Safari/537.36'),
 (12, 6, 6,'Mozilla/5.0 (Linux; U; Android 12; zh-cn; PFDM00 Build/SKQ1.210216.001) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/109.0.5414.86 MQQBrowser/14.3 Mobile Safari/537.36'),
 (13, 0,12,'Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)'),
 (14, 0, 3,'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)');

-- One-row table of word lists and expanded (weighted) pick arrays
CREATE TEMP TABLE cfg AS
SELECT
    timestamptz '2019-01-01 00:00:00+00' AS t_start,
    timestamptz '2026-05-31 23:59:59+00' AS t_created_max,
    timestamptz '2026-06-30 23:59:59+00' AS t_end,
    -- surnames, most common first (picks are skewed towards the front)
    ARRAY['王','李','张','刘','陈','杨','黄','赵','吴','周','徐','孙','马','朱','胡','郭','何','高',
          '林','罗','郑','梁','谢','宋','唐','许','韩','冯','邓','曹','彭','曾','肖','田','董','袁',
          '潘','于','蒋','蔡','余','杜','叶','程','苏','魏','吕','丁','任','沈','姚','卢','姜','崔',
          '钟','谭','陆','汪','范','金','石','廖','贾','夏','韦','付','方','白','邹','孟','熊','秦',
          '邱','江','尹','薛','闫','段','雷','侯','龙','史','陶','黎','贺','顾','毛','郝','龚','邵',
          '万','钱','严','覃','武','戴','莫','孔','向','汤'] AS sn_hz,
    ARRAY['wang','li','zhang','liu','chen','yang','huang','zhao','wu','zhou','xu','sun','ma','zhu',
          'hu','guo','he','gao','lin','luo','zheng','liang','xie','song','tang','xu','han','feng',
          'deng','cao','peng','zeng','xiao','tian','dong','yuan','pan','yu','jiang','cai','yu','du',
          'ye','cheng','su','wei','lv','ding','ren','shen','yao','lu','jiang','cui','zhong','tan',
          'lu','wang','fan','jin','shi','liao','jia','xia','wei','fu','fang','bai','zou','meng',
          'xiong','qin','qiu','jiang','yin','xue','yan','duan','lei','hou','long','shi','tao','li',
          'he','gu','mao','hao','gong','shao','wan','qian','yan','qin','wu','dai','mo','kong',
          'xiang','tang'] AS sn_py,
    -- given names (male / female), Hanzi and pinyin in parallel
    ARRAY['伟','强','磊','军','洋','勇','杰','涛','明','超','浩然','子轩','宇航','俊杰','志强',
          '建华','文博','晨阳','鹏飞','家豪','一鸣','思远','国庆','建国','博文','天宇','嘉伟',
          '明轩','梓豪','海峰'] AS gm_hz,
    ARRAY['wei','qiang','lei','jun','yang','yong','jie','tao','ming','chao','haoran','zixuan',
          'yuhang','junjie','zhiqiang','jianhua','wenbo','chenyang','pengfei','jiahao','yiming',
          'siyuan','guoqing','jianguo','bowen','tianyu','jiawei','mingxuan','zihao','haifeng'] AS gm_py,
    ARRAY['娜','敏','静','丽','艳','芳','婷','雪','秀英','桂英','丽娟','晓燕','欣怡','梓涵',
          '诗涵','雨萱','佳怡','思琪','婉清','慧敏','晓丽','玉兰','美玲','雅琴','子涵','若曦',
          '紫萱','可欣','梦洁','春梅'] AS gf_hz,
    ARRAY['na','min','jing','li','yan','fang','ting','xue','xiuying','guiying','lijuan','xiaoyan',
          'xinyi','zihan','shihan','yuxuan','jiayi','siqi','wanqing','huimin','xiaoli','yulan',
          'meiling','yaqin','zihan','ruoxi','zixuan','kexin','mengjie','chunmei'] AS gf_py,
    ARRAY['David','Kevin','Jason','Eric','Michael','Leo','Tony','Jack','Allen','Frank'] AS en_m,
    ARRAY['Emily','Grace','Linda','Cindy','Vivian','Amy','Coco','Iris','Sophia','Helen'] AS en_f,
    ARRAY['163.com','163.com','163.com','126.com','gmail.com','gmail.com','example.cn',
          'example.cn','foxmail.com','sina.com','outlook.com','qq.com'] AS mail_domains,
    -- card BINs: UnionPay debit (62...) and Visa / Mastercard credit
    ARRAY['622202','622848','621700','622588','622260','621661','622700','623058'] AS bin_up,
    ARRAY['404117','427020','438600','451804','512315','524094','552599','558868'] AS bin_cc,
    ARRAY['phones','digital','women','men','beauty','food','home','baby','sports','books'] AS categories,
    ARRAY['618','1111','1212','newyear','spring-festival'] AS promos,
    -- search keywords as the browser sends them (UTF-8 percent-encoded, '+' for space)
    (SELECT array_agg(CASE WHEN kw ~ '^[a-z0-9 ]+$' THEN replace(kw, ' ', '+')
                           ELSE regexp_replace(upper(encode(convert_to(kw, 'UTF8'), 'hex')),
                                               '(..)', '%\1', 'g') END
                      ORDER BY n)
     FROM unnest(ARRAY['手机','蓝牙耳机','连衣裙','运动鞋','零食大礼包','口红','充电宝','茶叶',
                       '笔记本电脑','婴儿奶粉','羽绒服','洗发水','iphone 15','switch','nike'])
          WITH ORDINALITY AS k(kw, n)) AS kw_enc,
    (SELECT pg_temp.expand(array_agg(idx ORDER BY idx), array_agg(weight ORDER BY idx))
     FROM lk_region) AS region_pick,
    (SELECT pg_temp.expand(array_agg(idx ORDER BY idx), array_agg(w_user ORDER BY idx))
     FROM lk_ua) AS ua_user,
    (SELECT pg_temp.expand(array_agg(idx ORDER BY idx), array_agg(w_anon ORDER BY idx))
     FROM lk_ua) AS ua_anon;

-- Seed the generator. Every random() call below happens in a
-- "CREATE TEMP TABLE d_* AS SELECT ... FROM generate_series" statement.
SELECT setseed(((:'seed')::bigint % 2147483648)::float8 / 2147483648) AS seeded \gset

-- ---------------------------------------------------------------------------
-- 4. Accounts
-- ---------------------------------------------------------------------------

-- 4a. Per-account random draws
CREATE TEMP TABLE d_acc AS
SELECT g,
       random() AS r_created,  random() AS r_closed,   random() AS r_closed_at,
       random() AS r_gender,   random() AS r_birth1,   random() AS r_birth2,
       random() AS r_seq,      random() AS r_region,   random() AS r_street,
       random() AS r_no,       random() AS r_bldg,     random() AS r_floor,
       random() AS r_room,     random() AS r_surname,  random() AS r_given,
       random() AS r_style,    random() AS r_english,  random() AS r_mail,
       random() AS r_domain,   random() AS r_mailnum,  random() AS r_phone_null,
       random() AS r_phone1,   random() AS r_phone2,   random() AS r_ord_act,
       random() AS r_ord_round,random() AS r_log_act,  random() AS r_log_round,
       random() AS r_ua,       random() AS r_ip_v6,    random() AS r_ip1,
       random() AS r_ip2,      random() AS r_ip3,      random() AS r_pay_pref,
       random() AS r_up_bin,   random() AS r_up_num,   random() AS r_cc_bin,
       random() AS r_cc_num
FROM generate_series(1, :n_accounts) AS g;

-- 4b. Derive the account attributes (no randomness from here on)
CREATE TEMP TABLE t_acc AS
WITH a1 AS (   -- sign-up time (growing over the years), gender, birth date, name indexes
    SELECT d.*,
           c.t_start + floor(power(d.r_created, 0.8)
                             * extract(epoch FROM c.t_created_max - c.t_start)) * interval '1 second'
               AS created_at,
           d.r_gender < 0.5 AS is_male,
           date '1950-01-01' + floor(power((d.r_birth1 + d.r_birth2) / 2, 0.6)
                                     * (date '2006-12-31' - date '1950-01-01' + 1))::int AS birth_date,
           1 + floor(power(d.r_surname, 1.8) * cardinality(c.sn_hz))::int AS sn_i,
           c.region_pick[1 + floor(d.r_region * cardinality(c.region_pick))::int] AS region_idx
    FROM d_acc d CROSS JOIN cfg c
), a2 AS (     -- ids in sign-up order, closure, names
    SELECT a1.*,
           row_number() OVER (ORDER BY a1.created_at, a1.g) AS account_id,
           CASE WHEN a1.r_closed < 0.15 THEN
                a1.created_at + interval '30 days'
                + floor(a1.r_closed_at * extract(epoch FROM c.t_end - (a1.created_at + interval '30 days')))
                  * interval '1 second'
           END AS closed_at,
           c.sn_hz[a1.sn_i] AS sn_hz,
           c.sn_py[a1.sn_i] AS sn_py,
           CASE WHEN a1.is_male THEN pg_temp.pick(c.gm_hz, a1.r_given) ELSE pg_temp.pick(c.gf_hz, a1.r_given) END AS gv_hz,
           CASE WHEN a1.is_male THEN pg_temp.pick(c.gm_py, a1.r_given) ELSE pg_temp.pick(c.gf_py, a1.r_given) END AS gv_py,
           CASE WHEN a1.is_male THEN pg_temp.pick(c.en_m, a1.r_english) ELSE pg_temp.pick(c.en_f, a1.r_english) END AS en_name,
           CASE WHEN a1.r_style < 0.82 THEN 'hanzi' WHEN a1.r_style < 0.92 THEN 'pinyin' ELSE 'english' END AS name_style
    FROM a1 CROSS JOIN cfg c
), a3 AS MATERIALIZED (     -- contact data, resident ID, address
    SELECT a2.*,
           CASE a2.name_style
                WHEN 'hanzi'  THEN a2.sn_hz || a2.gv_hz
                WHEN 'pinyin' THEN initcap(a2.sn_py) || ' ' || initcap(a2.gv_py)
                ELSE a2.en_name || ' ' || initcap(a2.sn_py)
           END AS full_name,
           CASE WHEN a2.r_mail < 0.30
                THEN (10000000 + floor(a2.r_mailnum * 2990000000))::bigint::text || '@qq.com'
                ELSE CASE WHEN a2.name_style = 'english' AND a2.r_mail < 0.60
                               THEN lower(a2.en_name) || '.' || a2.sn_py
                          WHEN a2.r_mail < 0.55 THEN a2.sn_py || a2.gv_py || to_char(a2.birth_date, 'YY')
                          WHEN a2.r_mail < 0.70 THEN a2.sn_py || '.' || a2.gv_py
                          WHEN a2.r_mail < 0.85 THEN a2.gv_py || '_' || a2.sn_py
                                                     || lpad(floor(a2.r_mailnum * 1000)::int::text, 3, '0')
                          ELSE left(a2.gv_py, 1) || a2.sn_py || to_char(a2.birth_date, 'YYYY')
                     END || '@' || pg_temp.pick(c.mail_domains, a2.r_domain)
           END AS email_base,
           CASE WHEN a2.r_phone_null < 0.05 THEN NULL
                ELSE pg_temp.phone(a2.r_phone1, a2.r_phone2) END AS phone,
           r.code || to_char(a2.birth_date, 'YYYYMMDD')
                  || lpad((floor(a2.r_seq * 499)::int * 2
                           + CASE WHEN a2.is_male THEN 1 ELSE 2 END)::text, 3, '0') AS id_body,
           pg_temp.address(r.province, r.city, r.district, r.streets,
                           a2.r_street, a2.r_no, a2.r_bldg, a2.r_floor, a2.r_room) AS address,
           r.city, r.postal AS postal_code,
           -- preferences reused by orders / payments / access log
           CASE WHEN a2.r_ip_v6 < 0.10 THEN pg_temp.ipv6(a2.r_ip1, a2.r_ip2, a2.r_ip3)
                ELSE pg_temp.ipv4(a2.r_ip1, a2.r_ip2) END AS home_ip,
           pg_temp.pick(c.ua_user, a2.r_ua) AS ua_idx,
           CASE WHEN a2.r_pay_pref < 0.45 THEN 'alipay' WHEN a2.r_pay_pref < 0.80 THEN 'wechat'
                WHEN a2.r_pay_pref < 0.90 THEN 'unionpay' ELSE 'card' END AS pay_pref,
           pg_temp.card(pg_temp.pick(c.bin_up, a2.r_up_bin), a2.r_up_num) AS up_card,
           pg_temp.card(pg_temp.pick(c.bin_cc, a2.r_cc_bin), a2.r_cc_num) AS cc_card,
           -- activity windows and weights (orders: 12 % of accounts never buy)
           extract(epoch FROM coalesce(a2.closed_at, c.t_end) - a2.created_at)::float8 AS active_secs,
           CASE WHEN a2.r_ord_act < 0.12 THEN 0
                ELSE -ln(1 - (a2.r_ord_act - 0.12) / 0.88) END AS ord_act
    FROM a2 CROSS JOIN cfg c JOIN lk_region r ON r.idx = a2.region_idx
), a4 AS (     -- weights -> per-account counts; number duplicate e-mail bases
    SELECT a3.*,
           row_number() OVER (PARTITION BY a3.email_base ORDER BY a3.account_id) AS mail_rn,
           a3.ord_act * a3.active_secs AS ord_w,
           (0.2 + a3.ord_act) * (0.3 + 1.4 * a3.r_log_act) * a3.active_secs AS log_w
    FROM a3
)
SELECT a4.*,
       CASE WHEN mail_rn = 1 THEN email_base
            ELSE split_part(email_base, '@', 1) || '_' || mail_rn || '@' || split_part(email_base, '@', 2)
       END AS email,
       id_body || pg_temp.prc_id_check(id_body) AS national_id,
       -- share of the target count, randomly rounded (exact numeric sums: order-independent)
       floor(:n_orders_target * ord_w::numeric / sum(ord_w::numeric) OVER ()
             + r_ord_round::numeric)::int AS n_orders,
       floor(:n_logs_user * log_w::numeric / sum(log_w::numeric) OVER ()
             + r_log_round::numeric)::int AS n_logs
FROM a4;

INSERT INTO shop.accounts
SELECT account_id, full_name, email, phone, national_id, birth_date, address, city,
       postal_code, created_at, closed_at
FROM t_acc;

-- ---------------------------------------------------------------------------
-- 5. Orders and payments
-- ---------------------------------------------------------------------------

-- 5a. One slot per order, numbered deterministically
CREATE TEMP TABLE t_order_slot AS
SELECT row_number() OVER (ORDER BY a.account_id, k) AS slot, a.account_id
FROM t_acc a CROSS JOIN LATERAL generate_series(1, a.n_orders) AS k;

SELECT count(*) AS n_order_slots FROM t_order_slot \gset

-- 5b. Per-order random draws
CREATE TEMP TABLE d_ord AS
SELECT g AS slot,
       random() AS r_day,     random() AS r_hour,    random() AS r_sec,
       random() AS r_status,  random() AS r_amt1,    random() AS r_amt2,
       random() AS r_cents,   random() AS r_ship,    random() AS r_alt_sn,
       random() AS r_alt_gv,  random() AS r_alt_sex, random() AS r_alt_reg,
       random() AS r_street,  random() AS r_no,      random() AS r_bldg,
       random() AS r_floor,   random() AS r_room,    random() AS r_phone1,
       random() AS r_phone2,  random() AS r_delay,   random() AS r_pay_pref,
       random() AS r_method,  random() AS r_card_same, random() AS r_card_bin,
       random() AS r_card_num, random() AS r_ip_home, random() AS r_ip_v6,
       random() AS r_ip1,     random() AS r_ip2,     random() AS r_ip3
FROM generate_series(1, :n_order_slots) AS g;

-- 5c. Derive orders (+ the payment columns), ids in chronological order
CREATE TEMP TABLE t_ord AS
WITH o1 AS MATERIALIZED (
    SELECT s.account_id, d.*, a.full_name, a.phone, a.address, a.home_ip,
           a.pay_pref, a.up_card, a.cc_card,
           -- ordering window: after sign-up, and early enough to pay before closure / the end
           a.created_at + interval '10 minutes' AS lo,
           coalesce(a.closed_at, c.t_end) - interval '1 hour' AS hi,
           pg_temp.cycle_ts(a.created_at + interval '10 minutes',
                            coalesce(a.closed_at, c.t_end) - interval '1 hour',
                            d.r_day, d.r_hour, d.r_sec) AS ts_raw,
           -- basket value: log-normal around ~100 CNY
           least(30000, greatest(5, exp(ln(99) + 0.9 * sqrt(-2 * ln(1 - d.r_amt1))
                                                 * cos(2 * pi() * d.r_amt2)))) AS raw_total,
           c.sn_hz[1 + floor(power(d.r_alt_sn, 1.8) * cardinality(c.sn_hz))::int]
             || CASE WHEN d.r_alt_sex < 0.5 THEN pg_temp.pick(c.gm_hz, d.r_alt_gv)
                     ELSE pg_temp.pick(c.gf_hz, d.r_alt_gv) END AS alt_name,
           pg_temp.phone(d.r_phone1, d.r_phone2) AS alt_phone,
           c.region_pick[1 + floor(d.r_alt_reg * cardinality(c.region_pick))::int] AS alt_region,
           c.bin_up, c.bin_cc
    FROM t_order_slot s
    JOIN d_ord d USING (slot)
    JOIN t_acc a USING (account_id)
    CROSS JOIN cfg c
), o2 AS MATERIALIZED (
    SELECT o1.*,
           pg_temp.fit_ts(ts_raw, lo, hi, r_sec) AS ordered_at,
           -- 80 % ship to the account holder, 10 % to another address, 10 % to someone else
           CASE WHEN r_ship < 0.90 THEN full_name ELSE alt_name END AS ship_name,
           CASE WHEN r_ship < 0.90 THEN coalesce(phone, alt_phone) ELSE alt_phone END AS ship_phone,
           CASE WHEN r_ship < 0.80 THEN address
                ELSE pg_temp.address(r.province, r.city, r.district, r.streets,
                                     r_street, r_no, r_bldg, r_floor, r_room) END AS ship_address,
           round(CASE WHEN r_cents < 0.50 THEN round(raw_total::numeric)
                      WHEN r_cents < 0.75 THEN round(raw_total::numeric) - 0.10
                      WHEN r_cents < 0.90 THEN round(raw_total::numeric) - 0.01
                      ELSE round(raw_total::numeric, 2) END, 2)::numeric(10,2) AS total,
           CASE WHEN r_status < 0.86 THEN 'delivered'
                WHEN r_status < 0.95 THEN 'cancelled'
                ELSE 'returned' END AS status,
           CASE WHEN r_pay_pref < 0.75 THEN pay_pref
                WHEN r_method < 0.45 THEN 'alipay' WHEN r_method < 0.80 THEN 'wechat'
                WHEN r_method < 0.90 THEN 'unionpay' ELSE 'card' END AS method
    FROM o1 JOIN lk_region r ON r.idx = o1.alt_region
)
SELECT row_number() OVER (ORDER BY ordered_at, slot) AS order_id,
       account_id, ordered_at, ship_name, ship_phone, ship_address, total, status,
       ordered_at + (15 + floor(power(r_delay, 3) * 1800)) * interval '1 second' AS paid_at,
       method,
       CASE method
            WHEN 'unionpay' THEN CASE WHEN r_card_same < 0.85 THEN up_card
                                      ELSE pg_temp.card(pg_temp.pick(bin_up, r_card_bin), r_card_num) END
            WHEN 'card'     THEN CASE WHEN r_card_same < 0.85 THEN cc_card
                                      ELSE pg_temp.card(pg_temp.pick(bin_cc, r_card_bin), r_card_num) END
       END AS card_number,
       CASE WHEN r_ip_home < 0.55 THEN home_ip
            WHEN r_ip_v6 < 0.10 THEN pg_temp.ipv6(r_ip1, r_ip2, r_ip3)
            ELSE pg_temp.ipv4(r_ip1, r_ip2) END AS payer_ip
FROM o2;

INSERT INTO shop.orders
SELECT order_id, account_id, ordered_at, ship_name, ship_phone, ship_address, total, status
FROM t_ord;

-- 5d. One payment per non-cancelled order, ids in payment-time order
INSERT INTO shop.payments
SELECT row_number() OVER (ORDER BY paid_at, order_id), order_id, paid_at, total, method,
       card_number, payer_ip
FROM t_ord
WHERE status <> 'cancelled';

-- ---------------------------------------------------------------------------
-- 6. Access log
-- ---------------------------------------------------------------------------

-- 6a. Slots: logged-in requests per account, then anonymous requests
CREATE TEMP TABLE t_log_slot AS
SELECT row_number() OVER (ORDER BY a.account_id, k) AS slot, a.account_id
FROM t_acc a CROSS JOIN LATERAL generate_series(1, a.n_logs) AS k;

INSERT INTO t_log_slot
SELECT (SELECT count(*) FROM t_log_slot) + k, NULL
FROM generate_series(1, :n_logs_anon) AS k;

SELECT count(*) AS n_log_slots FROM t_log_slot \gset

-- 6b. Per-request random draws
CREATE TEMP TABLE d_log AS
SELECT g AS slot,
       random() AS r_day,   random() AS r_hour,  random() AS r_sec,
       random() AS r_ua_same, random() AS r_ua,  random() AS r_ip_home,
       random() AS r_ip_v6, random() AS r_ip1,   random() AS r_ip2,
       random() AS r_ip3,   random() AS r_path,  random() AS r_path2,
       random() AS r_status
FROM generate_series(1, :n_log_slots) AS g;

-- 6c. Derive the requests. Anonymous traffic grows over time; logged-in
--     traffic grows with the number of active accounts.
INSERT INTO shop.access_log
WITH l1 AS MATERIALIZED (
    SELECT s.account_id, d.*,
           coalesce(a.created_at, c.t_start) AS lo,
           coalesce(a.closed_at, c.t_end) AS hi,
           CASE WHEN s.account_id IS NULL
                THEN pg_temp.cycle_ts(c.t_start, c.t_end, power(d.r_day, 0.6), d.r_hour, d.r_sec)
                ELSE pg_temp.cycle_ts(a.created_at, coalesce(a.closed_at, c.t_end),
                                      d.r_day, d.r_hour, d.r_sec)
           END AS at_raw,
           CASE WHEN s.account_id IS NOT NULL AND d.r_ip_home < 0.65 THEN a.home_ip
                WHEN d.r_ip_v6 < 0.10 THEN pg_temp.ipv6(d.r_ip1, d.r_ip2, d.r_ip3)
                ELSE pg_temp.ipv4(d.r_ip1, d.r_ip2) END AS ip,
           CASE WHEN s.account_id IS NULL THEN pg_temp.pick(c.ua_anon, d.r_ua)
                WHEN d.r_ua_same < 0.80 THEN a.ua_idx
                ELSE pg_temp.pick(c.ua_user, d.r_ua) END AS ua_idx,
           CASE WHEN d.r_path < 0.38 THEN '/product/' || (10000 + floor(power(d.r_path2, 2.5) * 90000)::int)
                WHEN d.r_path < 0.52 THEN '/search?q=' || pg_temp.pick(c.kw_enc, d.r_path2)
                WHEN d.r_path < 0.62 THEN '/'
                WHEN d.r_path < 0.70 THEN '/category/' || pg_temp.pick(c.categories, d.r_path2)
                WHEN d.r_path < 0.78 THEN '/cart'
                WHEN d.r_path < 0.82 THEN '/checkout'
                WHEN d.r_path < 0.86 THEN '/login'
                WHEN d.r_path < 0.91 THEN '/account/orders'
                WHEN d.r_path < 0.93 THEN '/account/profile'
                WHEN d.r_path < 0.97 THEN '/api/recommend?slot=' || pg_temp.pick(ARRAY['home','cart','detail'], d.r_path2)
                ELSE '/promo/' || pg_temp.pick(c.promos, d.r_path2)
           END AS path
    FROM t_log_slot s
    JOIN d_log d USING (slot)
    LEFT JOIN t_acc a USING (account_id)
    CROSS JOIN cfg c
)
SELECT row_number() OVER (ORDER BY l2.at, l2.slot) AS log_id,
       l2.account_id, l2.at, l2.ip, u.ua, l2.path,
       CASE WHEN l2.account_id IS NULL AND (l2.path LIKE '/account/%' OR l2.path = '/checkout') THEN 302
            WHEN l2.r_status < 0.004 THEN 500
            WHEN l2.r_status < 0.025 THEN 404
            WHEN l2.r_status < 0.080 THEN 304
            ELSE 200 END AS status
FROM (SELECT l1.*, pg_temp.fit_ts(l1.at_raw, l1.lo, l1.hi, l1.r_sec) AS at FROM l1) AS l2
JOIN lk_ua u ON u.idx = l2.ua_idx;

-- ---------------------------------------------------------------------------
-- 7. Foreign keys (added after the bulk load: one validating join per key
--    instead of one trigger call per row), indexes a DBA would have,
--    clean-up, statistics
-- ---------------------------------------------------------------------------
ALTER TABLE shop.orders
    ADD FOREIGN KEY (account_id) REFERENCES shop.accounts ON DELETE SET NULL;
ALTER TABLE shop.payments
    ADD FOREIGN KEY (order_id) REFERENCES shop.orders ON DELETE RESTRICT;
ALTER TABLE shop.access_log
    ADD FOREIGN KEY (account_id) REFERENCES shop.accounts ON DELETE CASCADE;

CREATE INDEX orders_account_id_idx     ON shop.orders (account_id);
CREATE INDEX orders_ordered_at_idx     ON shop.orders (ordered_at);
CREATE INDEX payments_order_id_idx     ON shop.payments (order_id);
CREATE INDEX payments_paid_at_idx      ON shop.payments (paid_at);
CREATE INDEX access_log_at_idx         ON shop.access_log (at);
CREATE INDEX access_log_account_id_idx ON shop.access_log (account_id);
CREATE INDEX accounts_closed_at_idx    ON shop.accounts (closed_at);

DROP TABLE d_acc, t_acc, t_order_slot, d_ord, t_ord, t_log_slot, d_log, cfg, lk_region, lk_ua;

COMMIT;

-- Summary of what was generated
\set QUIET off
SELECT 'shop.accounts' AS table_name, count(*) AS row_count FROM shop.accounts
UNION ALL SELECT 'shop.orders',     count(*) FROM shop.orders
UNION ALL SELECT 'shop.payments',   count(*) FROM shop.payments
UNION ALL SELECT 'shop.access_log', count(*) FROM shop.access_log;
\set QUIET on

-- Fresh planner statistics
ANALYZE shop.accounts;
ANALYZE shop.orders;
ANALYZE shop.payments;
ANALYZE shop.access_log;
