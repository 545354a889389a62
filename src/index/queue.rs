//! A bound on the documents waiting for tantivy's indexing threads. tantivy queues up to
//! 10,000 added documents before `add_document` blocks; during a fetch pass the store
//! feeds the index faster than two indexing threads take documents in, so that queue
//! stayed full — about 70 MB of documents (each holds its item's whole text) at the peak
//! of the 35k ingest's `gomtin fetch`, a third of its heap. Each document handed to the
//! writer here carries a ticket of a shared count, given back when tantivy drops the
//! document (after indexing and storing it), and [`Queue::wait_for_room`] holds the
//! feeder while [`MAX_WAITING`] are out. That is two of the feeder's batches: while it
//! reads and tags the next batch, the indexing threads still have the last one to work
//! on (with a cap of 1,000 they ran dry then, and the 1M ingest took 19% longer).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tantivy::TantivyDocument;
use tantivy::schema::document::Document;

/// Documents handed to the writer and not yet indexed, at most (before the feeder waits).
pub const MAX_WAITING: usize = 2 * super::BATCH;
/// Longest the feeder waits for room: if the indexing threads stop taking documents (they
/// failed), the next `add_document` says why, rather than the feeder waiting forever.
const LONGEST_WAIT: Duration = Duration::from_secs(30);

/// The count of documents out, shared with every ticket.
#[derive(Clone, Default)]
pub struct Queue(Arc<AtomicUsize>);

impl Queue {
    /// Documents handed out and not yet dropped by tantivy.
    pub fn waiting(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }

    /// Block until fewer than [`MAX_WAITING`] documents are out (or [`LONGEST_WAIT`] has
    /// passed). Two indexing threads take in about five documents a millisecond (the raw
    /// stage of the ingest benchmark), so a 1 ms sleep between looks leaves thousands
    /// still queued for them when the feeder goes on.
    pub fn wait_for_room(&self) {
        if self.waiting() < MAX_WAITING {
            return;
        }
        let start = Instant::now();
        while self.waiting() >= MAX_WAITING && start.elapsed() < LONGEST_WAIT {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// `doc` with a ticket of this queue.
    pub fn ticket(&self, doc: TantivyDocument) -> Queued {
        self.0.fetch_add(1, Ordering::AcqRel);
        Queued {
            doc,
            queue: self.clone(),
        }
    }
}

/// A document on its way through the writer; its ticket is given back when dropped.
pub struct Queued {
    doc: TantivyDocument,
    queue: Queue,
}

impl Drop for Queued {
    fn drop(&mut self) {
        self.queue.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Document for Queued {
    type Value<'a> = <TantivyDocument as Document>::Value<'a>;
    type FieldsValuesIter<'a> = <TantivyDocument as Document>::FieldsValuesIter<'a>;

    fn iter_fields_and_values(&self) -> Self::FieldsValuesIter<'_> {
        self.doc.iter_fields_and_values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::schema::{STORED, Schema, TEXT};
    use tantivy::{Index, IndexWriter, doc};

    #[test]
    fn tickets_come_back_when_tantivy_has_indexed_the_documents() {
        let mut b = Schema::builder();
        let body = b.add_text_field("body", TEXT | STORED);
        let index = Index::create_in_ram(b.build());
        let mut w: IndexWriter<Queued> = index
            .writer_with_num_threads(1, 15_000_000)
            .expect("writer");
        let q = Queue::default();
        for i in 0..50 {
            q.wait_for_room();
            w.add_document(q.ticket(doc!(body => format!("tin số {i}"))))
                .expect("add");
        }
        w.commit().expect("commit");
        // Committed: every document was indexed and dropped.
        assert_eq!(q.waiting(), 0);
        let searcher = index.reader().expect("reader").searcher();
        assert_eq!(searcher.num_docs(), 50);
        let got: TantivyDocument = searcher
            .doc(tantivy::DocAddress::new(0, 7))
            .expect("stored document");
        assert!(got.get_first(body).is_some());
    }

    #[test]
    fn a_full_queue_holds_the_feeder_until_a_document_is_dropped() {
        let q = Queue::default();
        let held: Vec<Queued> = (0..MAX_WAITING)
            .map(|_| q.ticket(TantivyDocument::default()))
            .collect();
        assert_eq!(q.waiting(), MAX_WAITING);
        let q2 = q.clone();
        let waiter = std::thread::spawn(move || {
            let t = Instant::now();
            q2.wait_for_room();
            t.elapsed()
        });
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            !waiter.is_finished(),
            "the feeder went on with the queue full"
        );
        drop(held);
        let waited = waiter.join().expect("waiter thread");
        assert!(waited >= Duration::from_millis(200));
        assert_eq!(q.waiting(), 0);
    }
}
