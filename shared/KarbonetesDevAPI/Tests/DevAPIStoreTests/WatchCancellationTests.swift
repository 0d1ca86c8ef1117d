import DevAPIStore
import Dispatch
import Foundation
import KarbonetesModels
import Testing

/// Found by the kill -9 scenario at 1,000 Jobs: karbonetes-devapi stopped answering every
/// store read (gdb: all request threads in `SharedStore.read` waiting for the store's Mutex).
/// The lock order is inverted between a write and a watch being cancelled:
/// - `SharedStore.write` holds the store Mutex while `fanOut` calls `continuation.yield`, which
///   resumes the watch's consumer task and takes that task's status lock;
/// - the HTTP server cancels the task of a watch whose client went away (the killed
///   controller's): `swift_task_cancel` holds the task's status lock and runs the stream's
///   `onTermination`, which calls `removeWatcher` and waits for the store Mutex.
/// Fixed by having `onTermination` only record the watch's id under a lock of its own, which
/// writers drain before they take the store's. This test races the two many times on plain
/// threads and fails (instead of hanging) when either side has not finished after 5 s.
@Suite("karbonetes-devapi (SharedStore): cancelling a watch during a write never deadlocks the store")
struct DevAPIWatchDeadlockTests {
    @Test("Cancelling watches while writes fan out to them never deadlocks the store")
    func cancelWhileFanningOut() async throws {
        let store = SharedStore(store: DevAPIStore(historyCapacity: 1_000_000, now: Date()))
        var created = 0
        for round in 0..<60 {
            var consumers: [Task<Void, Never>] = []
            for _ in 0..<16 {
                let stream = try store.watch(.namespaces, namespace: nil, since: nil) { signal -> Int in
                    if case .record(let record) = signal { return Int(record.resourceVersion) }
                    return 0
                }
                // Unstructured on purpose: the bug needs the cancellation to come from a thread
                // that is not the consumer's, as the HTTP server's does.
                consumers.append(Task { for await _ in stream {} })
            }
            try await Task.sleep(for: .milliseconds(2))
            let names = (0..<40).map { "ns-\(round)-\($0)" }
            created += names.count
            let writer = Finished()
            let canceller = Finished()
            DispatchQueue.global().async {
                for name in names {
                    let namespace: JSONValue = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]]
                    _ = try? store.write { store, now in try store.create(namespace, type: .namespaces, namespace: nil, now: now) }
                }
                writer.mark()
            }
            let toCancel = consumers
            DispatchQueue.global().async {
                for consumer in toCancel { consumer.cancel() }
                canceller.mark()
            }
            let deadline = ContinuousClock.now + .seconds(5)
            while !(writer.done && canceller.done), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            guard writer.done, canceller.done else {
                Issue.record("deadlock in round \(round): writer finished=\(writer.done), canceller finished=\(canceller.done) (SharedStore.write's yield under the store lock vs onTermination's removeWatcher)")
                return
            }
        }
        #expect(store.read { $0.resourceVersion } > UInt64(created))
    }
}

/// A flag set on one thread and polled from a test.
final class Finished: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func mark() { lock.withLock { value = true } }
    var done: Bool { lock.withLock { value } }
}
