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
struct StorePersister: Service {
    let store: SharedStore
    let file: String
    let interval: Duration
    let logger: Logger
    private let queue = DispatchQueue(label: "karbonetes-devapi.persister")
    private let written = WrittenCount()

    init(store: SharedStore, file: String, interval: Duration, logger: Logger) {
        self.store = store
        self.file = file
        self.interval = interval
        self.logger = logger
    }

    func run() async throws {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            await flush()
        }
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
