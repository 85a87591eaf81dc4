"""The app's stylesheet: the classes that app/ui_render.py's HTML uses, and the badges' colours."""

from __future__ import annotations

# The badges' colours (opaque, so their text contrast holds on any page background, whichever
# theme Streamlit or the system picks); tests/test_app_render.py checks WCAG AA (4.5:1) for both.
BADGE_COLOURS = {
    "BADGE_TEXT": "#1e40af",  # blue-800 on blue-100: 7.1:1
    "BADGE_BG": "#dbeafe",
    "BADGE_BORDER": "#93c5fd",
    "BADGE_DARK_TEXT": "#dbeafe",  # blue-100 on blue-900: 8.5:1
    "BADGE_DARK_BG": "#1e3a8a",
    "BADGE_DARK_BORDER": "#60a5fa",
}

_CSS = """
<style>
.block-container { max-width: 1180px; padding-top: 2.2rem; }
.stAppDeployButton, [data-testid="stAppDeployButton"] { display: none; }
.dq-answer { line-height: 1.65; white-space: pre-wrap; }
.dq-badge {
  display: inline-block; min-width: 1.15em; padding: 0 .32em; margin: 0 .08em 0 .18em;
  font-size: .68em; font-weight: 600; line-height: 1.45em; text-align: center;
  vertical-align: .38em; border-radius: .6em; color: BADGE_TEXT;
  background: BADGE_BG; border: 1px solid BADGE_BORDER; cursor: pointer;
}
a.dq-badge, a.dq-badge:visited, a.dq-badge:hover { color: BADGE_TEXT; text-decoration: none; }
a.dq-badge:hover, a.dq-badge:focus-visible { outline: 2px solid BADGE_BORDER; }
.dq-src { scroll-margin-top: 4rem; }
.dq-src:target { background: rgba(250, 204, 21, .16); border-radius: .3rem; }
@media (prefers-color-scheme: dark) {
  .dq-badge, a.dq-badge, a.dq-badge:visited, a.dq-badge:hover {
    color: BADGE_DARK_TEXT; background: BADGE_DARK_BG; border-color: BADGE_DARK_BORDER; }
}
.dq-s.dq-partial { text-decoration: underline dotted rgba(217, 119, 6, .9);
  text-underline-offset: .22em; }
.dq-s.dq-unsupported { text-decoration: underline wavy rgba(220, 38, 38, .85);
  text-underline-offset: .22em; }
.dq-abstain {
  padding: .6rem .9rem; border-radius: .5rem; border-left: 3px solid rgba(100, 116, 139, .7);
  background: rgba(100, 116, 139, .10); line-height: 1.55;
}
.dq-src { padding: .15rem 0 .1rem 0; }
.dq-sec { font-weight: 600; font-size: .88em; }
.dq-where { font-size: .78em; opacity: .62; }
.dq-ptext { font-size: .88em; line-height: 1.55; opacity: .9; margin-top: .25rem; }
.dq-quote { background: rgba(250, 204, 21, .38); border-radius: .2em; padding: 0 .05em;
  opacity: 1; }
.dq-near { background: rgba(128, 128, 128, .16); border-radius: .2em; padding: 0 .05em; }
.dq-pcard { padding: .45rem .1rem .55rem .1rem; border-bottom: 1px solid rgba(128,128,128,.18); }
.dq-phead { font-size: .8em; opacity: .85; }
.dq-doc { white-space: pre-wrap; line-height: 1.7; font-size: .97rem; }
.dq-doc .dq-h { font-weight: 700; font-size: 1.08em; }
.dq-doc .dq-furniture { opacity: .38; }
.dq-doc .dq-cited { background: rgba(250, 204, 21, .30); border-radius: .2em; }
.dq-doc .dq-focus { background: rgba(250, 160, 21, .62); border-radius: .2em;
  outline: 2px solid rgba(234, 88, 12, .55); }
.dq-more { opacity: .5; }
.dq-meta { opacity: .7; font-size: .9em; }
</style>
"""


def _css() -> str:
    out = _CSS
    for name in sorted(BADGE_COLOURS, key=len, reverse=True):  # BADGE_DARK_* before BADGE_*
        out = out.replace(name, BADGE_COLOURS[name])
    return out


CSS = _css()
