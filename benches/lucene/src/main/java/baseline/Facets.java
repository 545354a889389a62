package baseline;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.lucene.index.DocValues;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.SortedDocValues;
import org.apache.lucene.search.Collector;
import org.apache.lucene.search.CollectorManager;
import org.apache.lucene.search.LeafCollector;
import org.apache.lucene.search.Scorable;
import org.apache.lucene.search.ScoreMode;

/**
 * Per-source counts over every match, plus the exact total, in one pass: a collector over the
 * {@code source} sorted doc values (one int counter per ordinal of each segment, the names looked
 * up once per segment at the end). This is what SortedSetDocValuesFacetCounts does for one
 * single-valued dimension; written out here because the jar sets available (Debian's 8.x, the
 * PyPI wheel's 10.5.1) differ in lucene-facet's API, and this uses lucene-core only. As a
 * CollectorManager it runs per slice (and per segment partition on 10.x) when the searcher has
 * an executor.
 */
final class Facets {
  static final String FIELD = "source";

  /** What one pass gathered. */
  static final class Counts {
    long total;
    final Map<String, Long> perSource = new TreeMap<>();
  }

  /** One segment (or partition of one) seen by one collector. */
  private static final class Leaf {
    final SortedDocValues dv;
    final int[] counts;

    Leaf(SortedDocValues dv) {
      this.dv = dv;
      this.counts = new int[Math.max(0, dv.getValueCount())];
    }
  }

  static final class SourceCollector implements Collector {
    final List<Leaf> leaves = new ArrayList<>();
    long total;

    @Override
    public LeafCollector getLeafCollector(LeafReaderContext ctx) throws IOException {
      final Leaf leaf = new Leaf(DocValues.getSorted(ctx.reader(), FIELD));
      leaves.add(leaf);
      return new LeafCollector() {
        @Override
        public void setScorer(Scorable scorer) {}

        @Override
        public void collect(int doc) throws IOException {
          total++;
          if (leaf.dv.advanceExact(doc)) {
            leaf.counts[leaf.dv.ordValue()]++;
          }
        }
      };
    }

    @Override
    public ScoreMode scoreMode() {
      return ScoreMode.COMPLETE_NO_SCORES;
    }
  }

  static final class Manager implements CollectorManager<SourceCollector, Counts> {
    @Override
    public SourceCollector newCollector() {
      return new SourceCollector();
    }

    @Override
    public Counts reduce(Collection<SourceCollector> collectors) throws IOException {
      Counts out = new Counts();
      for (SourceCollector c : collectors) {
        out.total += c.total;
        for (Leaf l : c.leaves) {
          for (int ord = 0; ord < l.counts.length; ord++) {
            if (l.counts[ord] > 0) {
              out.perSource.merge(l.dv.lookupOrd(ord).utf8ToString(), (long) l.counts[ord], Long::sum);
            }
          }
        }
      }
      return out;
    }
  }

  private Facets() {}
}
