import DevAPIStore
import Foundation
import KarbonetesModels
import KarbonetesModelsTestKit
import Testing

/// Writes run on the store in place (a copy made every write O(objects)); these pin down that
/// a body that throws still commits nothing.
@Suite("DevAPIStore transactions")
struct TransactionTests {
    /// Everything a rolled-back transaction must leave as it was.
    struct Observed: Equatable {
        var data: Data
        var resourceVersion: UInt64
        var compactedThrough: UInt64
        var historyVersions: [UInt64]
        var servesPolicies: Bool

        init(_ store: DevAPIStore) throws {
            data = store.snapshot.jsonData
            resourceVersion = store.resourceVersion
            compactedThrough = store.compactedThrough
            historyVersions = try store.watchBacklog(.jobs, namespace: nil, since: store.compactedThrough).map(\.resourceVersion)
            servesPolicies = store.type(group: "carbon-aware.io", version: "v1alpha1", resource: "carbonawarepolicies") != nil
        }
    }

    struct Abort: Error {}

    static func seeded(historyCapacity: Int = 2_000) throws -> DevAPIStore {
        var store = try makeStore(historyCapacity: historyCapacity)
        for name in ["a", "b", "c"] {
            try store.create(JobFixture.plain(name: name).raw, type: .jobs, namespace: "batch", now: epoch)
        }
        try store.create(policyDefinition, type: .customResourceDefinitions, namespace: nil, now: epoch)
        return store
    }

    @Test("a transaction that throws after creating, patching and deleting leaves objects, versions and history as they were")
    func rollsBackMixedChanges() throws {
        var store = try Self.seeded()
        let before = try Observed(store)
        #expect(throws: Abort.self) {
            try store.transaction { store throws(any Error) in
                try store.create(JobFixture.plain(name: "new").raw, type: .jobs, namespace: "batch", now: epoch)
                try store.patch(patchData(#"{"metadata":{"labels":{"x":"y"}}}"#), format: .merge, type: .jobs, namespace: "batch", name: "a", now: epoch)
                try store.delete(.jobs, namespace: "batch", name: "b", now: epoch)
                try store.create(["metadata": ["name": "other"]], type: .namespaces, namespace: nil, now: epoch)
                try store.create(["metadata": ["name": "l"]], type: .leases, namespace: "other", now: epoch)
                try store.delete(.customResourceDefinitions, namespace: nil, name: "carbonawarepolicies.carbon-aware.io", now: epoch)
                throw Abort()
            }
        }
        #expect(try Observed(store) == before)
    }

    @Test("a rolled-back transaction that compacted the watch history restores the history and its compaction point")
    func rollsBackCompaction() throws {
        var store = try Self.seeded(historyCapacity: 4)
        let before = try Observed(store)
        #expect(throws: Abort.self) {
            try store.transaction { store throws(any Error) in
                for index in 0..<12 {
                    try store.create(JobFixture.plain(name: "n\(index)").raw, type: .jobs, namespace: "batch", now: epoch)
                }
                store.compactHistory()
                try store.create(JobFixture.plain(name: "last").raw, type: .jobs, namespace: "batch", now: epoch)
                throw Abort()
            }
        }
        #expect(try Observed(store) == before)
    }

    @Test("a transaction that returns keeps its changes, and the next one can still roll back")
    func commitsThenRollsBack() throws {
        var store = try Self.seeded()
        try store.transaction { store throws(StoreError) in
            try store.create(JobFixture.plain(name: "kept").raw, type: .jobs, namespace: "batch", now: epoch)
        }
        let committed = try Observed(store)
        #expect((try? store.get(.jobs, namespace: "batch", name: "kept")) != nil)
        #expect(throws: StoreError.self) {
            try store.transaction { store throws(StoreError) in
                try store.delete(.jobs, namespace: "batch", name: "kept", now: epoch)
                try store.get(.jobs, namespace: "batch", name: "missing")
            }
        }
        #expect(try Observed(store) == committed)
    }

    @Test("a failed SharedStore write delivers nothing to watches, and the next write's events follow on")
    func sharedStoreFailedWrite() async throws {
        let shared = SharedStore(store: try Self.seeded(), clock: { epoch })
        let stream = try shared.watch(.jobs, namespace: "batch", since: shared.read { $0.resourceVersion }) { signal -> String? in
            guard case .record(let record) = signal else { return nil }
            return "\(record.type.rawValue) \(record.name.name) \(record.resourceVersion)"
        }
        let version = shared.read { $0.resourceVersion }
        #expect(throws: StoreError.self) {
            try shared.write { store, now throws(StoreError) in
                try store.patch(patchData(#"{"metadata":{"labels":{"x":"y"}}}"#), format: .merge, type: .jobs, namespace: "batch", name: "a", now: now)
                try store.create(JobFixture.plain(name: "a").raw, type: .jobs, namespace: "batch", now: now)
            }
        }
        try shared.write { store, now throws(StoreError) in try store.delete(.jobs, namespace: "batch", name: "c", now: now) }
        shared.dropWatches()
        var seen: [String] = []
        for await line in stream { seen.append(line) }
        #expect(seen == ["DELETED c \(version + 1)"])
        #expect(shared.read { (try? $0.get(.jobs, namespace: "batch", name: "a"))?.at("metadata.labels.x") } == nil)
    }
}
