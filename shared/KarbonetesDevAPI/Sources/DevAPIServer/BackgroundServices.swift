import DevAPIStore
import Dispatch
import Foundation
import KarbonetesLifecycle
import KarbonetesLogging
import KarbonetesModels
import Synchronization

/// Drives the watches' clocks: bookmarks, `timeoutSeconds`, and the injected watch drops.
struct WatchTicker: Service {
    let store: SharedStore
    let faults: FaultInjector
    let interval: Duration

    func run() async throws {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let lifetimes = faults.watchLifetimes
            var byStorage: [StorageKey: Duration] = [:]
            if !lifetimes.isEmpty {
                for type in store.read({ $0.types }) {
                    if let lifetime = lifetimes[type.resource] ?? lifetimes["*"] { byStorage[type.storageKey] = lifetime }
                }
            }
            store.tick(dropOlderThan: byStorage)
        }
    }
}

/// Keeps the data file in step with the store: written (through a temporary file and a
/// rename, on a dedicated queue, never the cooperative pool) at most every `interval` when
/// something changed, and once more when the server stops.
///
/// The whole store is written each time, so with tens of thousands of objects one write
/// takes a large part of a second: every 500 ms that was 30-40% of the server's CPU under
/// load (perf, bench-controller at 10,000 Jobs). The pause after a write is therefore at
/// least ``costFactor`` times what the write took, which bounds persistence to about
/// 1/(costFactor+1) of a core however large the store grows.
struct StorePersister: Service {
    let store: SharedStore
    let file: String
    let interval: Duration
    let logger: Logger
    private let queue = DispatchQueue(label: "karbonetes-devapi.persister")
    private let written = WrittenCount()
    /// The pause after a write is at least this many times the write's duration.
    static let costFactor = 9.0

    init(store: SharedStore, file: String, interval: Duration, logger: Logger) {
        self.store = store
        self.file = file
        self.interval = interval
        self.logger = logger
    }

    func run() async throws {
        var pause = interval
        while !Task.isCancelled {
            try? await Task.sleep(for: pause)
            let started = ContinuousClock.now
            await flush()
            pause = Self.pause(after: ContinuousClock.now - started, interval: interval)
        }
    }

    /// How long to wait after a flush that took `cost`.
    static func pause(after cost: Duration, interval: Duration) -> Duration {
        max(interval, cost * costFactor)
    }

    /// Writes the data file if anything changed since the last write.
    func flush() async {
        let (snapshot, changeCount) = store.snapshot()
        guard written.value != changeCount else { return }
        do {
            let data = snapshot.jsonData
            try await writeOffPool(data)
            written.value = changeCount
            logger.debug("data file written", metadata: ["file": file, "bytes": String(data.count)])
        } catch {
            logger.error("cannot write the data file", metadata: ["file": file, "error": "\(error)"])
        }
    }

    private func writeOffPool(_ data: Data) async throws {
        let file = self.file
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            queue.async {
                let temporary = file + ".tmp"
                guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]),
                    rename(temporary, file) == 0
                else {
                    continuation.resume(throwing: DevAPIServerError.cannotWrite(file))
                    return
                }
                continuation.resume()
            }
        }
    }

    /// Reads a data file written by an earlier run; nil when there is none.
    static func load(_ file: String) throws -> DevAPIStore.Snapshot? {
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        guard let data = FileManager.default.contents(atPath: file) else { throw DevAPIServerError.cannotRead(file, reason: "unreadable") }
        do {
            return try KubernetesJSON.decoder.decode(DevAPIStore.Snapshot.self, from: data)
        } catch {
            throw DevAPIServerError.cannotRead(file, reason: "\(error)")
        }
    }
}

/// The change count last written, shared by the persister's loop and its final flush.
private final class WrittenCount: Sendable {
    private let stored = Atomic<UInt64>(0)

    var value: UInt64 {
        get { stored.load(ordering: .acquiring) }
        set { stored.store(newValue, ordering: .releasing) }
    }
}
