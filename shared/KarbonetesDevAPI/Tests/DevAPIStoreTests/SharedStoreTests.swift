import DevAPIStore
import Foundation
import KarbonetesModels
import KarbonetesModelsTestKit
import Synchronization
import Testing

@Suite("SharedStore watches")
struct SharedStoreTests {
    @Test("a watch gets its backlog, then live changes in order, bookmarks when asked, and ends at its timeout")
    func liveWatch() async throws {
        let shared = SharedStore(store: try makeStore(), clock: { epoch })
        try shared.write { store, now throws(StoreError) in try store.create(JobFixture.plain(name: "a").raw, type: .jobs, namespace: "batch", now: now) }
        let stream = try shared.watch(.jobs, namespace: "batch", since: nil, options: WatchOptions(timeout: .seconds(1), bookmarkInterval: .milliseconds(50))) { signal -> String in
            switch signal {
            case .record(let record): "\(record.type.rawValue) \(record.name.name)"
            case .bookmark: "BOOKMARK"
            }
        }
        try shared.write { store, now throws(StoreError) in try store.create(JobFixture.plain(name: "b").raw, type: .jobs, namespace: "batch", now: now) }
        try shared.write { store, now throws(StoreError) in try store.delete(.jobs, namespace: "batch", name: "a", now: now) }
        async let ticking: Void = {
            try? await Task.sleep(for: .milliseconds(80))
            shared.tick()
            while shared.openWatchCount > 0 {
                try? await Task.sleep(for: .milliseconds(50))
                shared.tick()
            }
        }()
        var seen: [String] = []
        for await line in stream { seen.append(line) }
        await ticking
        #expect(Array(seen.filter { $0 != "BOOKMARK" }) == ["ADDED a", "ADDED b", "DELETED a"])
        #expect(seen.contains("BOOKMARK"))
        #expect(shared.openWatchCount == 0)
    }

    @Test("dropping watches ends them, and a failed write commits nothing")
    func dropAndFailedWrite() async throws {
        let shared = SharedStore(store: try makeStore(), clock: { epoch })
        let stream = try shared.watch(.jobs, namespace: nil, since: nil) { signal -> Int in 1 }
        let version = shared.read { $0.resourceVersion }
        #expect(throws: StoreError.self) {
            try shared.write { store, now throws(StoreError) in
                try store.create(JobFixture.plain(name: "ok").raw, type: .jobs, namespace: "batch", now: now)
                try store.create(JobFixture.plain(name: "ok").raw, type: .jobs, namespace: "batch", now: now)
            }
        }
        #expect(shared.read { $0.resourceVersion } == version)
        shared.dropWatches(of: ResourceType.jobs.storageKey)
        var count = 0
        for await _ in stream { count += 1 }
        #expect(count == 0)
    }

    @Test("a watch with a label selector sees an object entering it as ADDED and leaving it as DELETED")
    func selectorTransitions() async throws {
        let shared = SharedStore(store: try makeStore(), clock: { epoch })
        let options = WatchOptions(list: ListOptions(labelSelector: try LabelSelector(parsing: "team=red")))
        let stream = try shared.watch(.jobs, namespace: "batch", since: nil, options: options) { signal -> String? in
            if case .record(let record) = signal { return "\(record.type.rawValue) \(record.object["metadata"]?["labels"]?["team"]?.stringValue ?? "")" }
            return nil
        }
        try shared.write { store, now throws(StoreError) in try store.create(JobFixture.plain(name: "a").labelled("team", "blue").raw, type: .jobs, namespace: "batch", now: now) }
        for team in ["red", "red2", "red"] {
            let patch = Data(#"{"metadata":{"labels":{"team":"\#(team)"}}}"#.utf8)
            try shared.write { store, now throws(StoreError) in try store.patch(patch, format: .merge, type: .jobs, namespace: "batch", name: "a", now: now) }
        }
        try shared.write { store, now throws(StoreError) in try store.patch(Data(#"{"metadata":{"annotations":{"x":"y"}}}"#.utf8), format: .merge, type: .jobs, namespace: "batch", name: "a", now: now) }
        shared.dropWatches()
        var seen: [String] = []
        for await line in stream { seen.append(line) }
        #expect(seen == ["ADDED red", "DELETED red2", "ADDED red", "MODIFIED red"])
    }

    @Test("a change is encoded once for every watch that sends it as it is, and apart for a watch that sees it as another event type")
    func encodesOncePerEvent() async throws {
        let shared = SharedStore(store: try makeStore(), clock: { epoch })
        try shared.write { store, now throws(StoreError) in try store.create(JobFixture.plain(name: "a").labelled("team", "blue").raw, type: .jobs, namespace: "batch", now: now) }
        let encodings = Mutex(0)
        func watch(_ options: WatchOptions) throws -> AsyncStream<Data> {
            let version = shared.read { $0.resourceVersion }
            return try shared.watch(.jobs, namespace: "batch", since: version, options: options) { signal -> Data? in
                guard case .record(let record) = signal else { return nil }
                let encode = {
                    encodings.withLock { $0 += 1 }
                    return Data("\(record.type.rawValue) \(record.name.name)".utf8)
                }
                return record.encodedOnce?.value(encode) ?? encode()
            }
        }
        let plain = try [watch(WatchOptions()), watch(WatchOptions()), watch(WatchOptions())]
        let selected = try watch(WatchOptions(list: ListOptions(labelSelector: try LabelSelector(parsing: "team=red"))))
        try shared.write { store, now throws(StoreError) in
            try store.patch(Data(#"{"metadata":{"labels":{"team":"red"}}}"#.utf8), format: .merge, type: .jobs, namespace: "batch", name: "a", now: now)
        }
        shared.dropWatches()
        for stream in plain {
            var lines: [String] = []
            for await line in stream { lines.append(String(decoding: line, as: UTF8.self)) }
            #expect(lines == ["MODIFIED a"])
        }
        var selectedLines: [String] = []
        for await line in selected { selectedLines.append(String(decoding: line, as: UTF8.self)) }
        #expect(selectedLines == ["ADDED a"])
        #expect(encodings.withLock { $0 } == 2, "one encoding shared by the three plain watches, one for the ADDED event")
    }
}
