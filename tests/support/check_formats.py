"""Independent checks of the report formats sigaudit::report::formats writes (tests/report_formats.rs).

    python check_formats.py REPORT.json OUTDIR SCHEMAS_DIR

reads OUTDIR/report.{csv,sarif,xml,prom} written from REPORT.json (the `-o json` report) and
checks each with a validator that knows nothing of sigaudit: the OASIS SARIF 2.1.0 JSON schema
(jsonschema), Jenkins xUnit's junit-10.xsd (lxml), the Prometheus text-format parser
(prometheus_client), Python's csv module; then that every text of the report, however hostile,
comes back out of each format as it went in. Prints one JSON line of figures; exits 1 with the
failures listed.
"""

import csv
import json
import sys
from pathlib import Path

import jsonschema
from lxml import etree
from prometheus_client.parser import text_string_to_metric_families

STATUSES = ["verified", "untrusted", "unverified", "invalid", "unsupported", "error", "unsigned"]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def xml_char(c):
    o = ord(c)
    return c in "\t\n\r" or 0x20 <= o <= 0x7E or 0xA0 <= o <= 0xD7FF or 0xE000 <= o <= 0xFFFD or o >= 0x10000


def clean(s):
    """What the formats that cannot carry every character make of a text."""
    return "".join(c if xml_char(c) else "\ufffd" for c in s)


def undefuse(field):
    """CSV: a field starting with = + - @ TAB CR is written with an apostrophe in front."""
    if field.startswith("'") and field[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        return field[1:]
    return field


def image_name(i):
    tags = ",".join(i["tags"])
    return f"{i['repository']}:{tags}@{i['digest']}" if tags else f"{i['repository']}@{i['digest']}"


def main():
    report_path, outdir, schemas = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    report = json.loads(report_path.read_text())
    files = report.get("files") is not None
    items = report["files"] if files else report["images"]
    figures = {"items": len(items)}

    # SARIF: the schema, then one result per non-verified item and per error, rules declared.
    sarif = json.loads((outdir / "report.sarif").read_text())
    schema = json.loads((schemas / "sarif-schema-2.1.0.json").read_text())
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(sarif), key=lambda e: list(e.path))
    check(not errors, "SARIF schema: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5]))
    run = sarif["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    results = run["results"]
    findings = [i for i in items if i["status"] != "verified"]
    workloads = report.get("workloads") or []
    container_findings = [w for w in workloads if w.get("status") not in (None, "verified")]
    check(len(results) == len(findings) + len(report["errors"]) + len(container_findings),
          f"SARIF: {len(results)} results, want {len(findings)} findings + {len(report['errors'])} errors"
          f" + {len(container_findings)} containers")
    for r, item in zip(results, findings):
        check(r["ruleId"] == f"sigaudit/status/{item['status']}", f"SARIF ruleId {r['ruleId']} for {item['status']}")
        check(rules[r["ruleIndex"]] == r["ruleId"], f"SARIF ruleIndex of {r['ruleId']}")
        for rid in r["properties"]["rules"]:
            check(rid in rules, f"SARIF: related rule {rid} not declared")
        if files:
            check(r["properties"]["path"] == item["path"], "SARIF path round trip")
        else:
            check(r["properties"]["repository"] == item["repository"], "SARIF repository round trip")
            check(r["properties"]["imageTags"] == item["tags"], "SARIF tags round trip")
            loc = r["locations"][0]["logicalLocations"][0]["name"]
            check(loc == image_name(item), f"SARIF location {loc!r}")
        # A waived item's result is suppressed by its waiver, with the waiver's reason.
        if item.get("waived"):
            sup = r.get("suppressions") or [{}]
            check(sup[0].get("kind") == "external" and sup[0].get("justification") == item["waived"]["reason"],
                  f"SARIF: waived {image_name(item) if not files else item['path']} is not suppressed")
        else:
            check("suppressions" not in r, "SARIF: a result suppressed without a waiver")
        sigs = item["signatures"] + [s for p in item.get("platforms", []) for s in p["signatures"]]
        got = [x["reasons"] for x in r["properties"]["signatures"]]
        check(got == [s["verification"]["reasons"] for s in sigs], "SARIF reasons round trip")
        for x, s in zip(r["properties"]["signatures"], sigs):
            for k in ("keyId", "keyName"):
                check(x.get(k) == (s.get("signer") or {}).get(k), f"SARIF signature {k}: {x.get(k)!r}")
        for s in sigs:
            for reason in s["verification"]["reasons"]:
                check(reason in r["message"]["text"], f"SARIF message lacks reason {reason!r}")
    for r, e in zip(results[len(findings):], report["errors"]):
        check(r["ruleId"].startswith("sigaudit/error/") and r["ruleId"] in rules, f"SARIF error rule {r['ruleId']}")
        check(e["message"] in r["message"]["text"], "SARIF error message round trip")
    # A cluster report: one result per container whose running image is not verified, after the errors.
    for r, w in zip(results[len(findings) + len(report["errors"]):], container_findings):
        check(r["ruleId"] == f"sigaudit/status/{w['status']}", f"SARIF container rule {r['ruleId']}")
        check(rules[r["ruleIndex"]] == r["ruleId"], f"SARIF container ruleIndex of {r['ruleId']}")
        fq = f"{w['namespace']}/{w['owner']['kind']}/{w['owner']['name']}/{w['pod']}/{w['container']}"
        check(r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == fq, f"SARIF container location {fq!r}")
        for k in ("namespace", "pod", "container", "image", "digest"):
            check(r["properties"][k] == w.get(k), f"SARIF container {k} round trip")
        check(bool(r.get("suppressions")) == bool(w.get("waived")), f"SARIF: container {fq} suppressed iff waived")
    figures["sarif_container_results"] = len(container_findings)
    figures["sarif_results"] = len(results)
    figures["sarif_rules"] = len(rules)

    # JUnit: the XSD, then one test case per item plus the scan's, failures as --fail-on says.
    xsd = etree.XMLSchema(etree.parse(str(schemas / "junit-10.xsd")))
    doc = etree.parse(str(outdir / "report.xml"))
    check(xsd.validate(doc), "JUnit XSD: " + "; ".join(str(e) for e in list(xsd.error_log)[:5]))
    root = doc.getroot()
    cases = [c for suite in root.findall("./testsuite") if suite.get("name") != "workloads" for c in suite.findall("testcase")]
    container_cases = root.findall("./testsuite[@name='workloads']/testcase")
    check(len(cases) == len(items) + 1, f"JUnit: {len(cases)} test cases, want {len(items)} + 1")
    check(len(container_cases) == len(workloads), f"JUnit: {len(container_cases)} container cases, want {len(workloads)}")
    fail_on = (report["scan"].get("settings") or {}).get("fail-on") or ["invalid", "error"]
    fail_on = [fail_on] if isinstance(fail_on, str) else fail_on
    fail_on = [s.strip() for x in fail_on for s in x.split(",")]
    # A waived item is accepted for now: skipped, not failed (as --fail-on ignores it).
    failing = [i for i in items if i["status"] in fail_on and not i.get("waived")]
    want_fail = sum(1 for i in failing if i["status"] != "error")
    want_err = sum(1 for i in failing if i["status"] == "error")
    want_skip = sum(1 for i in items if i["status"] in fail_on and i.get("waived"))
    want_err += 0 if report["scan"]["complete"] else 1
    # Containers fail as the image they run would; waived ones are skipped; no digest, no failure.
    failing_c = [w for w in workloads if w.get("status") in fail_on and not w.get("waived")]
    want_fail += sum(1 for w in failing_c if w["status"] != "error")
    want_err += sum(1 for w in failing_c if w["status"] == "error")
    want_skip += sum(1 for w in workloads if w.get("status") in fail_on and w.get("waived"))
    for c, w in zip(container_cases, workloads):
        check(c.get("classname") == clean(f"{w['namespace']}/{w['owner']['kind']}/{w['owner']['name']}"),
              f"JUnit container classname {c.get('classname')!r}")
        check(c.get("name") == clean(f"{w['pod']}/{w['container']}"), f"JUnit container name {c.get('name')!r}")
        failed = c.find("failure") if c.find("failure") is not None else c.find("error")
        should = w.get("status") in fail_on and not w.get("waived")
        check((failed is not None) == should, f"JUnit: container {c.get('name')!r} ({w.get('status')}) fails iff failing")
        if failed is not None:
            check(failed.get("type") == w["status"], "JUnit container failure type")
    figures["junit_container_cases"] = len(container_cases)
    check(int(root.get("failures")) == want_fail, f"JUnit failures {root.get('failures')} != {want_fail}")
    check(int(root.get("errors")) == want_err, f"JUnit errors {root.get('errors')} != {want_err}")
    check(int(root.get("tests")) == len(items) + 1 + len(workloads), "JUnit tests attribute")
    skipped = sum(int(suite.get("skipped")) for suite in root.findall("./testsuite"))
    check(skipped == want_skip, f"JUnit skipped {skipped} != {want_skip} (waived)")
    figures["junit_skipped"] = skipped
    item_cases = [c for c in cases if c.get("classname") != "scan" or c.get("name") != "complete"]
    for c, item in zip(item_cases, items):
        if files:
            path = c.get("classname") + "/" + c.get("name") if c.get("classname") else c.get("name")
            check(path == clean(item["path"]), f"JUnit path {path!r}")
        else:
            check(c.get("classname") == clean(item["repository"]), f"JUnit classname {c.get('classname')!r}")
            check(c.get("name") == clean(image_name(item)), f"JUnit name {c.get('name')!r}")
        failed = c.find("failure") if c.find("failure") is not None else c.find("error")
        if item["status"] in fail_on and item.get("waived"):
            check(failed is None and c.find("skipped") is not None, f"JUnit: {c.get('name')!r} is waived: skipped")
            check(clean(item["waived"]["reason"]) in c.find("skipped").get("message"), "JUnit: the waiver's reason")
        elif item["status"] in fail_on:
            if check(failed is not None, f"JUnit: {c.get('name')!r} ({item['status']}) should fail"):
                check(failed.get("type") == item["status"], "JUnit failure type")
                for s in item["signatures"]:
                    for reason in s["verification"]["reasons"]:
                        check(clean(reason) in failed.text, f"JUnit failure text lacks {reason!r}")
        else:
            check(failed is None, f"JUnit: {c.get('name')!r} ({item['status']}) should pass")
    figures["junit_cases"] = len(cases)

    # CSV: one row per signature (platforms' included) plus one per item without its own.
    with open(outdir / "report.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, strict=True))
    header, rows = rows[0], [[undefuse(x) for x in r] for r in rows[1:]]
    check(all(len(r) == len(header) for r in rows), "CSV: ragged rows")
    expected = []
    for i in items:
        base = {"path": i["path"], "status": i["status"]} if files else {
            "registry": i.get("registry", ""), "repository": i["repository"], "tags": " ".join(i["tags"]),
            "digest": i["digest"], "status": i["status"]}
        if not i["signatures"]:
            expected.append(dict(base, verdict="", reasons="", signer=""))
        plat = [] if files else [(p, s) for p in i.get("platforms", []) for s in p["signatures"]]
        for p, s in [(None, s) for s in i["signatures"]] + plat:
            signer = s.get("signer") or {}
            key = signer.get("keyId") and f"key {signer['keyId'][:16]}" + (
                f" ({signer['keyName']})" if signer.get("keyName") else "")
            name = signer.get("signingProfile") or signer.get("subject") or (signer.get("san") or [""])[0] or key or (
                f"serial {signer['serial'][:16]} of {signer['issuer']}"
                if signer.get("serial") and signer.get("issuer") else "")
            row = dict(base, verdict=s["verification"]["status"], reasons="; ".join(s["verification"]["reasons"]),
                       signer=name, keyId=signer.get("keyId") or "")
            if not files:
                row["keyName"] = signer.get("keyName") or ""
            if p is not None:
                row["platformDigest"] = p["digest"]
            expected.append(row)
    for w in workloads:
        expected.append({"registry": w.get("registry", ""), "repository": w.get("repository", ""),
                         "digest": w.get("digest", ""), "status": w.get("status", ""), "verdict": "",
                         "namespace": w["namespace"], "workloadKind": w["owner"]["kind"], "workload": w["owner"]["name"],
                         "pod": w["pod"], "container": w["container"], "containerType": w["containerType"],
                         "specImage": w["image"], "state": w["state"],
                         "drift": "" if w.get("drift") is None else str(w["drift"]).lower(),
                         "containerWaived": "true" if w.get("waived") else "false", "notes": "; ".join(w.get("notes", []))})
    if workloads:
        check(header[-1] == "notes" and "namespace" in header, f"CSV: the workload columns end the header: {header[-14:]}")
    check(len(rows) == len(expected), f"CSV: {len(rows)} rows, want {len(expected)}")
    for n, (row, want) in enumerate(zip(rows, expected)):
        got = dict(zip(header, row))
        for k, v in want.items():
            check(got.get(k) == clean(v), f"CSV row {n + 2} {k}: {got.get(k)!r} != {clean(v)!r}")
    figures["csv_rows"] = len(rows)
    figures["csv_columns"] = len(header)

    # Prometheus: the text-format parser, then the figures and the label values.
    with open(outdir / "report.prom", newline="", encoding="utf-8") as f:  # a CR in a label value stays one
        text = f.read()
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    summary = report["summary"]

    def samples(name):
        check(name in fams, f"Prometheus: no {name}")
        return fams[name].samples if name in fams else []

    target = report["scan"]["target"]
    target = target if isinstance(target, str) else ",".join(target)
    for f in fams.values():
        check(f.type == "gauge", f"Prometheus: {f.name} is a {f.type}, not a gauge")
        for s in f.samples:
            check(s.labels.get("kind") == report["scan"]["kind"] and s.labels.get("target") == target,
                  f"Prometheus: {s.name} labels {s.labels}")
    by_status = {s.labels["status"]: s.value for s in samples("sigaudit_items_by_status")}
    check(by_status == {st: float(summary[st]) for st in STATUSES}, f"Prometheus by status {by_status}")
    check(samples("sigaudit_items")[0].value == len(items) if not report["scan"].get("only") else True,
          "Prometheus items")
    check(samples("sigaudit_signatures")[0].value == summary["signatures"], "Prometheus signatures")
    check(samples("sigaudit_scan_complete")[0].value == (1.0 if report["scan"]["complete"] else 0.0),
          "Prometheus complete")
    check(("sigaudit_last_complete_scan_timestamp_seconds" in fams) == report["scan"]["complete"],
          "Prometheus last complete scan present iff complete")
    check("sigaudit_scan_duration_seconds" in fams, "Prometheus duration")
    if not files:
        ns = {}
        for i in items:
            key = (i.get("registry", ""), i["repository"].split("/")[0], i["status"])
            ns[key] = ns.get(key, 0) + 1
        got = {(s.labels["registry"], s.labels["namespace"], s.labels["status"]): s.value
               for s in samples("sigaudit_namespace_items_by_status") if s.value}
        check(got == {k: float(v) for k, v in ns.items()}, f"Prometheus namespaces {sorted(got)} != {sorted(ns)}")
        figures["prometheus_namespaces"] = len({(k[0], k[1]) for k in ns})
    if workloads:
        ws = summary["workloads"]
        by = {s.labels["status"]: s.value for s in samples("sigaudit_workload_containers_by_status")}
        check(by == {st: float(ws["byStatus"].get(st, 0)) for st in STATUSES}, f"Prometheus workload statuses {by}")
        check(samples("sigaudit_workload_pods")[0].value == ws["pods"], "Prometheus pods")
        check(samples("sigaudit_workload_containers_digest_unknown")[0].value == ws["digestUnknown"],
              "Prometheus digest unknown")
        check(samples("sigaudit_workload_containers_drifted")[0].value == ws["drifted"], "Prometheus drifted")
        ns = {}
        for w in workloads:
            if w.get("status"):
                ns[(w["namespace"], w["status"])] = ns.get((w["namespace"], w["status"]), 0) + 1
        got = {(s.labels["namespace"], s.labels["status"]): s.value
               for s in samples("sigaudit_namespace_workload_containers_by_status") if s.value}
        check(got == {k: float(v) for k, v in ns.items()}, f"Prometheus workload namespaces {sorted(got)} != {sorted(ns)}")
    figures["prometheus_families"] = len(fams)
    figures["prometheus_samples"] = sum(len(f.samples) for f in fams.values())

    print(json.dumps(figures))
    if failures:
        print("\n".join(failures[:40]), file=sys.stderr)
        sys.exit(1)


main()
