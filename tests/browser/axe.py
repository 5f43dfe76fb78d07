"""Accessibility checks in the browser with axe-core (vendored: tests/browser/vendor/axe.min.js,
MPL-2.0, from `npm pack axe-core`)."""

from pathlib import Path

AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
BLOCKING = ("serious", "critical")


def axe_violations(page, *, impacts=BLOCKING) -> list[dict]:
    """axe-core's violations on the current page with one of `impacts`, as
    [{"id", "impact", "help", "targets"}]."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    results = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ["violations"]});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       targets: v.nodes.slice(0, 5).map(n => n.target.join(" "))}));
    }""")
    return [v for v in results if v["impact"] in impacts]
