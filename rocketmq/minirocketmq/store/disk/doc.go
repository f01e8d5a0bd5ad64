// Package disk is the durable store.Store of the embedded broker: an
// append-only commit log in segment files plus one index per queue, after
// the Java broker's commitlog/consumequeue design, with a CRC per record
// and crash recovery.
//
//	s, err := disk.Open(dir, disk.WithFlushInterval(200*time.Millisecond))
//	...
//	defer s.Close()
//
// # Layout
//
//	dir/FORMAT                         "minirocketmq store format 1"
//	dir/checkpoint                     recovery starts here (see Open)
//	dir/deleted.json                   topic → commit-log offset of its deletion
//	dir/commitlog/<20-digit offset>    segments: frames of CRC32-C (4 bytes) + record
//	dir/commitlog/<offset>.keys        key index of a sealed segment
//	dir/consumequeue/<topic>/<queueId>/<20-digit queue offset>
//	                                   28-byte entries: commit-log offset, record
//	                                   size, tag code, store time
//
// A record is the stored-record encoding of package message, exactly the
// bytes a pull response carries; a frame's position is the message's
// commit-log offset (and goes into its offset message id). Records never
// span segments; a segment is sealed at WithSegmentSize. Message bodies
// are read from the files on every pull: memory holds the index of the
// newest entries not yet written, the keys of the active segment and a
// few buffers, so the resident size does not grow with the data.
//
// # Durability
//
// Put writes the frames to the active segment (one write per Put) before
// it returns, so a crash of the process loses nothing that Put accepted.
// Fsync happens every WithFlushInterval (ASYNC_FLUSH: a power loss can take
// the messages of the last interval), or on demand through AfterSync,
// which a broker with SYNC_FLUSH calls before acknowledging a send;
// concurrent callers share one fsync. Consume-queue entries are written
// every flush interval and fsynced with the checkpoint; they can always be
// rebuilt from the log, which is what recovery does from the checkpoint on.
// A failed write or fsync makes the store refuse writes until reopened.
//
// Retention (WithRetention) removes sealed segments, oldest first, by age
// of their newest message and by total size, except those holding a
// message the store.Keeper (WithKeeper, SetKeeper) still needs.
//
// # Concurrency
//
// Each piece of state has one owner:
//   - amu serialises appends: Put, segment rolls, DeleteTopic; it owns the
//     active segment, the last store time and the active segment's keys.
//   - fmu (read/write) guards the set of files: readers (Get, Lookup,
//     QueryByKey), the syncer and the indexer read-lock it while they use
//     files; retention, DeleteTopic, a segment roll and Close write-lock it.
//   - each queue's mutex guards its offsets, file list and pending entries
//     (queue.go); nobody holds it during I/O.
//   - end and synced are atomics published by Put and the syncer.
//
// Locks are taken in the order amu, fmu, queue map, queue, never the other
// way. Two goroutines run in the background (flush.go) and end with Close.
package disk
