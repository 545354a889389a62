package baseline;

import java.lang.reflect.Method;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.search.IndexSearcher;

/**
 * The IndexSearcher for {@code --threads N}: N = 1 is the plain single-threaded searcher (no
 * executor); N > 1 gives it a fixed pool of N threads, and on Lucene 10.x also splits large
 * segments into partitions ({@code IndexSearcher.slices(leaves, maxDocs, maxSegments, true)}, the
 * intra-segment concurrency of 10.0) of about total/(2N) documents each, so that a one-segment
 * index is searched by N threads. Lucene 8.x cannot split a segment: there the executor only helps
 * an index of several segments (its default slicing: up to 250,000 documents and 5 segments a
 * slice).
 */
final class Searchers {
  /** IndexSearcher.slices(List, int, int, boolean) on 10.x, else null. */
  private static final Method PARTITIONED_SLICES;

  static {
    Method m;
    try {
      m = IndexSearcher.class.getMethod("slices", List.class, int.class, int.class, boolean.class);
    } catch (NoSuchMethodException e) {
      m = null;
    }
    PARTITIONED_SLICES = m;
  }

  /*
   * Lucene 8.x computes the slices in IndexSearcher's constructor, before a subclass's fields are
   * set, so the target slice size is handed over through this static.
   */
  private static volatile int partitionDocs = Integer.MAX_VALUE;

  private static final class Partitioned extends IndexSearcher {
    Partitioned(IndexReader r, ExecutorService ex) {
      super(r, ex);
    }

    @Override
    protected LeafSlice[] slices(List<LeafReaderContext> leaves) {
      if (PARTITIONED_SLICES == null) {
        return super.slices(leaves);
      }
      try {
        return (LeafSlice[]) PARTITIONED_SLICES.invoke(null, leaves, partitionDocs, 5, true);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** Whether this Lucene can split one segment between threads. */
  static boolean canPartition() {
    return PARTITIONED_SLICES != null;
  }

  /** A searcher and the pool behind it (null when single-threaded). */
  static final class Handle implements AutoCloseable {
    final IndexSearcher searcher;
    final ExecutorService pool;
    final int slices;

    Handle(IndexSearcher searcher, ExecutorService pool, int slices) {
      this.searcher = searcher;
      this.pool = pool;
      this.slices = slices;
    }

    @Override
    public void close() {
      if (pool != null) {
        pool.shutdownNow();
      }
    }
  }

  static Handle open(IndexReader reader, int threads) {
    if (threads <= 1) {
      return new Handle(new IndexSearcher(reader), null, 1);
    }
    long total = reader.maxDoc();
    partitionDocs = (int) Math.max(1, Math.min(Integer.MAX_VALUE, (total + 2L * threads - 1) / (2L * threads)));
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "search");
      t.setDaemon(true);
      return t;
    });
    IndexSearcher s = new Partitioned(reader, pool);
    return new Handle(s, pool, s.getSlices().length);
  }

  private Searchers() {}
}
