// The wiki site's search: reads the static catalog (catalog/, written by
// `stacktag wiki`) and answers as `stacktag find` does, in the browser,
// fetching only the catalog's files (catalog.json, then per month the one
// package shard of each name asked about, then the builds shown).
// The rules below are src/catalog/{spec,version}.rs in JavaScript; the site
// test checks both against tests/data/version-order.tsv.
"use strict";
(function () {
  const MANAGERS = ["apt", "pip", "conda", "r", "julia", "tag", "build"];
  const FIELDS = ["image", "platform", "variant"];
  const PAGE = 20;

  // ---- names, buckets ----
  function normalize(name) {
    return name.toLowerCase().replace(/[_.]/g, "-");
  }
  function bucket(key, buckets) {
    let h = 0x811c9dc5;
    const bytes = new TextEncoder().encode(key);
    for (const b of bytes) {
      h ^= b;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h % buckets;
  }
  function hex2(n) {
    return (n < 16 ? "0" : "") + n.toString(16);
  }

  // ---- version order ----
  const isDigit = (c) => c >= "0" && c <= "9";
  const isAlpha = (c) => /^[A-Za-z]$/.test(c);
  function order(c) {
    if (c === undefined) return 0;
    if (c === "~") return -1;
    if (isDigit(c)) return 0;
    if (isAlpha(c)) return c.charCodeAt(0);
    return c.charCodeAt(0) + 256;
  }
  function verrevcmp(a, b) {
    let i = 0, j = 0;
    while (i < a.length || j < b.length) {
      let firstDiff = 0;
      while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
        const ac = order(i < a.length && !isDigit(a[i]) ? a[i] : undefined);
        const bc = order(j < b.length && !isDigit(b[j]) ? b[j] : undefined);
        if (ac !== bc) return ac < bc ? -1 : 1;
        i++; j++;
      }
      while (i < a.length && a[i] === "0") i++;
      while (j < b.length && b[j] === "0") j++;
      while (i < a.length && isDigit(a[i]) && j < b.length && isDigit(b[j])) {
        if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
        i++; j++;
      }
      if (i < a.length && isDigit(a[i])) return 1;
      if (j < b.length && isDigit(b[j])) return -1;
      if (firstDiff) return firstDiff < 0 ? -1 : 1;
    }
    return 0;
  }
  function debian(a, b) {
    const split = (v) => {
      let epoch = 0, rest = v;
      const c = v.indexOf(":");
      if (c > 0 && /^[0-9]+$/.test(v.slice(0, c))) {
        epoch = Number(v.slice(0, c));
        rest = v.slice(c + 1);
      }
      const d = rest.lastIndexOf("-");
      return d >= 0 ? [epoch, rest.slice(0, d), rest.slice(d + 1)] : [epoch, rest, ""];
    };
    const [ea, ua, ra] = split(a), [eb, ub, rb] = split(b);
    if (ea !== eb) return ea < eb ? -1 : 1;
    return verrevcmp(ua, ub) || verrevcmp(ra, rb);
  }
  function pieces(v) {
    const out = [];
    const re = /[0-9]+|[A-Za-z~]+/g;
    let m;
    while ((m = re.exec(v))) {
      out.push(isDigit(m[0][0]) ? { n: m[0].replace(/^0+/, "") } : { a: m[0] });
    }
    return out;
  }
  function numCmp(x, y) {
    if (x.length !== y.length) return x.length < y.length ? -1 : 1;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  function generic(a, b) {
    const pa = pieces(a), pb = pieces(b);
    for (let i = 0; ; i++) {
      const x = pa[i], y = pb[i];
      if (!x && !y) return 0;
      if (!y) return x.n !== undefined ? 1 : -1;
      if (!x) return y.n !== undefined ? -1 : 1;
      if (x.n !== undefined && y.n !== undefined) {
        const c = numCmp(x.n, y.n);
        if (c) return c;
      } else if (x.n !== undefined) return 1;
      else if (y.n !== undefined) return -1;
      else {
        const s = x.a.toLowerCase(), t = y.a.toLowerCase();
        if (s !== t) return s < t ? -1 : 1;
      }
    }
  }
  // PEP 440, as `packaging` normalizes it; null when it is not one.
  const PEP440 = /^v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(alpha|beta|preview|pre|rc|a|b|c)(?:[-_.]?(\d+))?)?(?:-(\d+)|[-_.]?(post|rev|r)(?:[-_.]?(\d+))?)?(?:[-_.]?(dev)(?:[-_.]?(\d+))?)?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$/;
  function pep440(text) {
    const m = PEP440.exec(text.trim().toLowerCase());
    if (!m) return null;
    const big = (s) => (s === undefined ? 0 : s.length > 15 ? NaN : Number(s));
    const release = m[2].split(".").map(big);
    while (release.length > 1 && release[release.length - 1] === 0) release.pop();
    const kinds = { alpha: 0, a: 0, beta: 1, b: 1 };
    const pre = m[3] === undefined ? null : [m[3] in kinds ? kinds[m[3]] : 2, big(m[4])];
    const post = m[5] !== undefined ? big(m[5]) : m[6] !== undefined ? big(m[7]) : null;
    const dev = m[8] !== undefined ? big(m[9]) : null;
    const local = m[10] === undefined ? [] : m[10].split(/[-_.]/).map((p) => (/^[0-9]+$/.test(p) ? Number(p) : p));
    if ([...release, pre && pre[1], post, dev].some((x) => Number.isNaN(x))) return null;
    return { epoch: big(m[1]), release, pre, post, dev, local };
  }
  function cmpNum(x, y) {
    return x < y ? -1 : x > y ? 1 : 0;
  }
  function pepKey(v) {
    const pre = v.pre ? [0, v.pre[0], v.pre[1]] : v.post === null && v.dev !== null ? [-1, 0, 0] : [1, 0, 0];
    const post = v.post === null ? [-1, 0] : [0, v.post];
    const dev = v.dev === null ? [1, 0] : [0, v.dev];
    return [pre, post, dev];
  }
  function pepCmp(x, y) {
    let c = cmpNum(x.epoch, y.epoch);
    if (c) return c;
    for (let i = 0; i < Math.max(x.release.length, y.release.length); i++) {
      // A shorter release is a prefix: it comes first (as a Rust Vec compares).
      if (i >= x.release.length) return -1;
      if (i >= y.release.length) return 1;
      c = cmpNum(x.release[i], y.release[i]);
      if (c) return c;
    }
    const kx = pepKey(x), ky = pepKey(y);
    for (let p = 0; p < 3; p++) {
      for (let i = 0; i < kx[p].length; i++) {
        c = cmpNum(kx[p][i], ky[p][i]);
        if (c) return c;
      }
    }
    for (let i = 0; i < Math.max(x.local.length, y.local.length); i++) {
      if (i >= x.local.length) return -1;
      if (i >= y.local.length) return 1;
      const a = x.local[i], b = y.local[i];
      if (typeof a !== typeof b) return typeof a === "string" ? -1 : 1;
      c = a < b ? -1 : a > b ? 1 : 0;
      if (c) return c;
    }
    return 0;
  }
  function scheme(manager) {
    return manager === "apt" ? "debian" : manager === "pip" || manager === "conda" ? "pep440" : "generic";
  }
  function compare(s, a, b) {
    if (s === "debian") return debian(a, b);
    if (s === "pep440") {
      const x = pep440(a), y = pep440(b);
      if (x && y) return pepCmp(x, y);
    }
    return generic(a, b);
  }
  const isAlnum = (c) => isDigit(c) || isAlpha(c);
  function hasPrefix(s, version, prefix) {
    if (prefix.endsWith(".*")) prefix = prefix.slice(0, -2);
    if (version === prefix) return true;
    if (s === "debian" && !prefix.includes(":")) {
      const c = version.indexOf(":");
      if (c >= 0) version = version.slice(c + 1);
    }
    if (!version.startsWith(prefix)) return false;
    const c = version[prefix.length], p = prefix[prefix.length - 1];
    if (c === undefined || p === undefined) return true;
    return !isAlnum(c) || isDigit(c) !== isDigit(p);
  }

  // ---- constraints ----
  const OPS = { "==": "eq", "!=": "ne", ">=": "ge", "<=": "le", ">": "gt", "<": "lt", "=": "prefix" };
  const OPTEXT = { eq: "==", ne: "!=", ge: ">=", le: "<=", gt: ">", lt: "<", prefix: "=" };
  const versionOk = (v) => /^[A-Za-z0-9._+~:!*-]*$/.test(v);
  function opsOf(text, word, bare) {
    const out = [];
    for (const part of text.split(",")) {
      let op = "prefix", version = part;
      if (!bare) {
        const sym = /^[=<>!~]*/.exec(part)[0];
        if (!(sym in OPS))
          throw `\`${word}\`: \`${sym}\` is not an operator; use =, ==, !=, >, >=, < or <= (e.g. \`numpy>=1.26\`)`;
        op = OPS[sym];
        version = part.slice(sym.length);
      }
      if (!version) throw `\`${word}\`: \`${OPTEXT[op]}\` needs a version after it, e.g. \`${OPTEXT[op]}1.26\``;
      const bad = [...version].find((c) => !versionOk(c));
      if (bad) throw `\`${word}\`: \`${bad}\` cannot be in a version (after \`${OPTEXT[op]}\`)`;
      const star = version.indexOf("*");
      if (star >= 0 && (star !== version.length - 1 || op !== "prefix"))
        throw `\`${word}\`: \`*\` only ends a version after \`=\` (\`=1.26.*\`)`;
      version = version.replace(/\*$/, "").replace(/\.$/, "");
      if (!version) throw `\`${word}\`: \`*\` alone is any version: write the name alone`;
      out.push([op, version]);
    }
    return out;
  }
  function termText(t) {
    const shown = t.manager && !(t.manager === "build" && FIELDS.includes(t.key));
    return (shown ? t.manager + ":" : "") + t.name + t.ops.map(([op, v]) => OPTEXT[op] + v).join(",");
  }
  function checkTerm(t) {
    if (t.manager === "build" && t.ops.some(([op]) => op !== "prefix" && op !== "eq" && op !== "ne"))
      throw `\`${termText(t)}\`: \`${t.name}\` takes \`=\` or \`!=\` (e.g. \`${t.name}=...\`)`;
  }
  function parseTerm(word, managers) {
    let manager = null, rest = word;
    const colon = word.indexOf(":");
    if (colon > 0 && /^[A-Za-z0-9_-]+$/.test(word.slice(0, colon)) && !isDigit(word[colon + 1] || "")) {
      const m = word.slice(0, colon).toLowerCase();
      if (!MANAGERS.includes(m) && !managers.includes(m)) {
        const known = MANAGERS.concat(managers.filter((x) => !MANAGERS.includes(x)));
        throw `\`${word}\`: no manager \`${m}\`; the catalog knows ${known.join(", ")}`;
      }
      manager = m;
      rest = word.slice(colon + 1);
    }
    const name = /^[A-Za-z0-9._+-]*/.exec(rest)[0];
    const tail = rest.slice(name.length);
    if (!name) throw `\`${word}\`: no package name; write \`name\`, \`name=1.2\`, \`name>=1.2\`, or \`manager:name...\``;
    if (!isAlnum(name[0])) throw `\`${word}\`: a package name starts with a letter or digit`;
    if (tail && !"=<>!~".includes(tail[0]))
      throw `\`${word}\`: \`${tail[0]}\` cannot be in a package name (letters, digits, \`.\`, \`_\`, \`-\`, \`+\`)`;
    const t = { manager, name, key: normalize(name), ops: tail ? opsOf(tail, word, false) : [] };
    if (FIELDS.includes(t.key) && (manager === null || manager === "build")) {
      t.manager = "build";
      if (t.key === "platform")
        t.ops = t.ops.map(([op, v]) => [op, { amd64: "x86_64", arm64: "aarch64" }[v.toLowerCase()] || v.toLowerCase()]);
    }
    checkTerm(t);
    return t;
  }
  function parse(query, managers) {
    const terms = [];
    for (const word of query.split(/\s+/).filter(Boolean)) {
      if (isDigit(word[0])) {
        const last = terms[terms.length - 1];
        if (last && last.ops.length === 0) {
          last.ops = opsOf(word, `${last.name}=${word}`, true);
          checkTerm(last);
          continue;
        }
        throw `\`${word}\`: a version needs a package before it, e.g. \`numpy ${word}\` or \`numpy=${word}\``;
      }
      terms.push(parseTerm(word, managers));
    }
    return terms;
  }
  function accepts(t, manager, version) {
    if (t.manager && t.manager !== manager) return false;
    const s = scheme(manager);
    return t.ops.every(([op, want]) => {
      if (manager === "build") return (version === want) === (op !== "ne");
      const o = compare(s, version, want);
      switch (op) {
        case "prefix": return hasPrefix(s, version, want);
        case "eq": return o === 0;
        case "ne": return o !== 0;
        case "gt": return o > 0;
        case "ge": return o >= 0;
        case "lt": return o < 0;
        default: return o <= 0;
      }
    });
  }

  const api = { normalize, bucket, compare, hasPrefix, parse, accepts, termText };
  window.stacktagFind = api;

  // ---- the page ----
  const input = document.getElementById("q");
  if (!input) return;
  const status = document.getElementById("status");
  const list = document.getElementById("results");
  const more = document.getElementById("more");
  const base = "./catalog/";
  const cache = new Map();
  let top = null;
  let names = null;
  let generation = 0;
  let hits = [];
  let shown = 0;
  let started = 0;

  class Corrupt extends Error {}
  async function json(file) {
    if (cache.has(file)) return cache.get(file);
    const p = (async () => {
      let resp;
      // A request the network dropped (a reset connection, a server busy
      // for a moment) is asked once more before the file is called unreadable.
      for (let tries = 2; ; tries--) {
        try {
          resp = await fetch(base + file);
          break;
        } catch (e) {
          if (tries === 1) throw new Corrupt(`${file}: cannot be read (${e.message})`);
          await new Promise((ok) => setTimeout(ok, 250));
        }
      }
      if (!resp.ok) throw new Corrupt(`${file}: ${resp.status === 404 ? "missing" : "HTTP " + resp.status}`);
      try {
        return await resp.json();
      } catch (e) {
        throw new Corrupt(`${file}: not the expected JSON (${e.message})`);
      }
    })();
    cache.set(file, p);
    p.catch(() => cache.delete(file));
    return p;
  }
  function say(text, error) {
    status.textContent = text;
    status.className = error ? "error" : "";
  }
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const k of kids) e.append(k);
    return e;
  }
  async function copy(text, button) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      const area = el("textarea", {}, text);
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = "Copy"), 1500);
  }
  function row(build, matched) {
    const ref = build.digest ? `${build.name}@${build.digest}` : `${build.name}:${build.tag}`;
    const button = el("button", { type: "button", class: "copy", "data-copy": ref, "aria-label": `Copy ${ref}` }, "Copy");
    button.addEventListener("click", () => copy(ref, button));
    const shownMatches = matched.filter((m) => m.manager !== "build").map((m) => `${m.name} ${m.version} (${m.manager})`);
    const tags = el("p", { class: "tags" }, "Tags: ");
    for (const t of build.tags) tags.append(el("code", {}, t), " ");
    return el(
      "li",
      { class: "build" },
      el("div", { class: "ref" }, el("code", { class: "reference" }, ref), button),
      el(
        "p",
        { class: "meta" },
        `Built ${build.timestamp}, ${build.platform} ${build.variant}${shownMatches.length ? "; " + shownMatches.join(", ") : ""} · `,
        el("a", { href: `./${build.page}.html` }, "Build page")
      ),
      tags
    );
  }
  async function showMore(gen) {
    const next = hits.slice(shown, shown + PAGE);
    const months = [...new Set(next.map((h) => h.month))];
    const builds = {};
    await Promise.all(months.map(async (m) => (builds[m] = await json(`${m}/builds.json`))));
    if (gen !== generation) return;
    for (const h of next) {
      const b = builds[h.month][h.id];
      if (!b) throw new Corrupt(`${h.month}/builds.json: has no build ${h.id}, which a package shard names`);
      list.append(row(b, h.matched));
    }
    shown += next.length;
    more.hidden = shown >= hits.length;
  }
  async function search(query, gen) {
    top = top || (await json("catalog.json"));
    if (top.format !== 1) throw new Corrupt(`catalog.json: format ${top.format}; this page reads format 1`);
    const terms = parse(query, top.managers);
    if (!terms.length) return null;
    // A name no build has (a word still being typed, most often) costs no shard.
    names = names || (await json("names.json"));
    if (gen !== generation) return null;
    const known = (t) => {
      const managers = names[t.key];
      return managers && (!t.manager || managers.includes(t.manager));
    };
    const months = top.months.filter((m) => m.builds > 0);
    const shardsOf = (t) => months.map((m) => `${m.month}/p-${hex2(bucket(t.key, top.buckets))}.json`);
    const unknown = terms.find((t) => !known(t));
    if (unknown) {
      // While the last word is being typed, the shards of the words before
      // it load, so that the key completing the query pays for its own only.
      for (const t of terms.filter(known)) for (const f of shardsOf(t)) json(f).catch(() => {});
      return { terms, found: [], unknown };
    }
    const files = [];
    for (const m of months) for (const t of terms) files.push(`${m.month}/p-${hex2(bucket(t.key, top.buckets))}.json`);
    const shards = await Promise.all(files.map(json));
    if (gen !== generation) return null;
    const found = [];
    months.forEach((m, mi) => {
      let acc = null;
      terms.forEach((t, ti) => {
        const shard = shards[mi * terms.length + ti];
        const here = new Map();
        for (const [manager, versions] of Object.entries(shard[t.key] || {})) {
          for (const [version, ids] of versions) {
            if (!accepts(t, manager, version)) continue;
            for (const id of ids) if (!here.has(id)) here.set(id, { name: t.key, manager, version });
          }
        }
        if (acc === null) acc = new Map([...here].map(([id, x]) => [id, [x]]));
        else for (const [id, v] of acc) here.has(id) ? v.push(here.get(id)) : acc.delete(id);
      });
      const ids = [...(acc || new Map()).keys()].sort((a, b) => b - a);
      for (const id of ids) found.push({ month: m.month, id, matched: acc.get(id) });
    });
    return { terms, found };
  }
  async function run() {
    const gen = ++generation;
    const query = input.value.trim();
    started = performance.now();
    const url = new URL(location.href);
    if (query) url.searchParams.set("q", query);
    else url.searchParams.delete("q");
    history.replaceState(null, "", url);
    list.replaceChildren();
    more.hidden = true;
    hits = [];
    shown = 0;
    if (!query) return say("Type to search every build of the wiki.");
    try {
      const r = await search(query, gen);
      if (gen !== generation || !r) return;
      hits = r.found;
      const q = r.terms.map(termText).join(" ");
      if (r.unknown) {
        const t = r.unknown;
        say(`No build has ${t.manager ? "a " + t.manager + " package" : "a package or tagger value"} named ${t.name}.`);
      } else if (!hits.length) {
        say(`No build of the ${top.builds} in the catalog matches ${q}.`);
      } else {
        await showMore(gen);
        if (gen !== generation) return;
        say(`${hits.length} of ${top.builds} builds match ${q}, newest first.`);
      }
      document.body.dataset.firstResultMs = String(Math.round(performance.now() - started));
      document.body.dataset.query = query;
    } catch (e) {
      if (gen !== generation) return;
      if (e instanceof Corrupt) say(`The catalog is missing or corrupt: ${e.message}. Run stacktag wiki --html again.`, true);
      else if (typeof e === "string") say(e, true);
      else say(`Search failed: ${e}`, true);
      document.body.dataset.query = query;
    }
  }
  let timer = 0;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(run, 120);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      clearTimeout(timer);
      run();
    }
  });
  more.addEventListener("click", () => showMore(generation).catch((e) => say(`The catalog is missing or corrupt: ${e.message}`, true)));
  const initial = new URL(location.href).searchParams.get("q");
  if (initial) {
    input.value = initial;
    run();
  }
})();
