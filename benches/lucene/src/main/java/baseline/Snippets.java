package baseline;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Matches;
import org.apache.lucene.search.MatchesIterator;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.Weight;

/**
 * A snippet of the stored body per hit, with the matched words marked, from Lucene's Matches API
 * ({@code Weight.matches(leaf, doc)}) over offsets stored in the postings of the body fields (index
 * built with {@code --store-body}). That is the mechanism of the UnifiedHighlighter with offsets in
 * postings (and of its weight-matches mode): no re-analysis, exact phrase spans. The highlighter
 * jar itself is not used because the Lucene 10.5.1 jar set available here has none; this uses
 * lucene-core only, so 8.x and 10.x do the same work.
 *
 * <p>Passage: the window of at most {@link #MAX_CHARS} characters that holds the most matches
 * (earliest on ties), starting at a match and cut back to a space; the first characters of the
 * body when nothing in the body matched (a title-only hit), as gomtin falls back to its summary.
 */
final class Snippets {
  /** Same length as gomtin's SNIPPET_CHARS. */
  static final int MAX_CHARS = 220;

  static final class Snippet {
    final String text;
    /** [start, end) pairs into text (UTF-16 units). */
    final List<int[]> highlights;

    Snippet(String text, List<int[]> highlights) {
      this.text = text;
      this.highlights = highlights;
    }
  }

  private final Weight weight;
  private final List<LeafReaderContext> leaves;

  Snippets(IndexSearcher searcher, Query query) throws IOException {
    this.weight = searcher.createWeight(searcher.rewrite(query), ScoreMode.COMPLETE_NO_SCORES, 1f);
    this.leaves = searcher.getIndexReader().leaves();
  }

  /** The snippet of top-level document {@code doc}, whose stored body is {@code body}. */
  Snippet of(int doc, String body) throws IOException {
    if (body == null) {
      body = "";
    }
    LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(doc, leaves));
    List<int[]> spans = new ArrayList<>();
    Matches m = weight.matches(leaf, doc - leaf.docBase);
    if (m != null) {
      collect(m.getMatches(Analysis.BODY_FOLDED), spans);
      collect(m.getMatches(Analysis.BODY_EXACT), spans);
    }
    return cut(body, merge(spans));
  }

  private static void collect(MatchesIterator it, List<int[]> out) throws IOException {
    if (it == null) {
      return;
    }
    while (it.next()) {
      int s = it.startOffset();
      int e = it.endOffset();
      if (s >= 0 && e > s) {
        out.add(new int[] {s, e});
      }
    }
  }

  /** Sorted, overlapping spans joined (the folded and exact fields mark the same words). */
  static List<int[]> merge(List<int[]> spans) {
    spans.sort((a, b) -> a[0] != b[0] ? Integer.compare(a[0], b[0]) : Integer.compare(a[1], b[1]));
    List<int[]> out = new ArrayList<>();
    for (int[] s : spans) {
      int[] last = out.isEmpty() ? null : out.get(out.size() - 1);
      if (last != null && s[0] <= last[1]) {
        last[1] = Math.max(last[1], s[1]);
      } else {
        out.add(new int[] {s[0], s[1]});
      }
    }
    return out;
  }

  static Snippet cut(String body, List<int[]> spans) {
    if (spans.isEmpty()) {
      return new Snippet(clip(body, 0, Math.min(body.length(), MAX_CHARS)), List.of());
    }
    int best = 0;
    int bestCount = 0;
    int j = 0;
    for (int i = 0; i < spans.size(); i++) { // two pointers: spans[i..j) fit in the window
      if (j < i) {
        j = i;
      }
      while (j < spans.size() && spans.get(j)[1] - spans.get(i)[0] <= MAX_CHARS) {
        j++;
      }
      if (j - i > bestCount) {
        bestCount = j - i;
        best = i;
      }
    }
    int start = Math.min(spans.get(best)[0], body.length());
    int end = Math.min(body.length(), start + MAX_CHARS);
    if (end < body.length()) {
      int sp = body.lastIndexOf(' ', end);
      int lastSpanEnd = spans.get(Math.max(best, best + bestCount - 1))[1];
      if (sp > start && sp >= lastSpanEnd) {
        end = sp;
      }
    }
    String text = body.substring(start, end);
    List<int[]> hl = new ArrayList<>();
    for (int[] s : spans) {
      if (s[0] >= start && s[1] <= end) {
        hl.add(new int[] {s[0] - start, s[1] - start});
      }
    }
    return new Snippet(text, hl);
  }

  private static String clip(String body, int start, int end) {
    if (end < body.length()) {
      int sp = body.lastIndexOf(' ', end);
      if (sp > start) {
        end = sp;
      }
    }
    return body.substring(start, end);
  }
}
