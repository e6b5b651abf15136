// Package web is the annotation page of "labelfree annotate serve": a
// local web application through which experts rate reasoning traces.
//
// A Server shows each annotator the same drawn traces (see annotate.Draw)
// in the same order: the question, the reasoning and the answer of the
// greedy trace r0. The annotator says whether the answer is correct and
// how sound the reasoning is (1 to 5), with an optional comment. Once both
// are chosen, the rating and every later change are posted at once (a
// rating needs both) and appended to the annotator's own ratings
// file through an annotate.Writer, which syncs it to disk before the page
// is told it was saved; reopening the page resumes at the first trace not
// yet rated. The model's uncertainty and its token-level confidence (each
// token shaded by its probability or by the entropy before it) are
// revealed for a trace only after the annotator has rated it, so the
// rating is blind.
//
// Safety. Traces are model output and are treated as untrusted: templates
// (html/template) and the page's script (textContent only) insert them as
// text, never as markup, and a Content-Security-Policy forbids inline
// scripts. The Server answers only to the host names it is given
// (loopback names by default, against DNS rebinding), refuses cross-origin
// posts (net/http's CrossOriginProtection), and rejects a malformed
// rating (an unknown or repeated field, a soundness outside 1–5, a
// comment over annotate.MaxComment bytes or not UTF-8, a post for another
// trace than the page's, a body too large) with a 4xx status that says
// what was wrong. Binding to loopback is the caller's part: "labelfree
// annotate serve" listens on 127.0.0.1 unless told otherwise.
//
// The page is plain HTML, CSS and a little JavaScript embedded in the
// binary: no build step, nothing fetched from elsewhere. Without
// JavaScript the form still saves, one trace at a time.
package web
