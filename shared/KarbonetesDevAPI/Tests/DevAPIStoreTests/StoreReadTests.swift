import DevAPIStore
import Foundation
import KarbonetesModels
import KarbonetesModelsTestKit
import Testing

@Suite("DevAPIStore reads, watches and history")
struct StoreReadTests {
    static func populated() throws -> DevAPIStore {
        var store = try makeStore()
        try store.create(["metadata": ["name": "other"]], type: .namespaces, namespace: nil, now: epoch)
        for (name, team) in [("a", "red"), ("b", "blue"), ("c", "red"), ("d", "green")] {
            try store.create(JobFixture.plain(name: name).labelled("team", team).raw, type: .jobs, namespace: "batch", now: epoch)
        }
        try store.create(JobFixture.plain(name: "e", namespace: "other").labelled("team", "red").raw, type: .jobs, namespace: "other", now: epoch)
        return store
    }

    struct SelectorCase: Sendable, CustomStringConvertible {
        var description: String { "\(namespace ?? "all"): labels '\(labels)' fields '\(fields)'" }
        var namespace: String?
        var labels: String
        var fields: String
        var want: [String]
    }

    static let selectorCases: [SelectorCase] = [
        SelectorCase(namespace: "batch", labels: "", fields: "", want: ["a", "b", "c", "d"]),
        SelectorCase(namespace: nil, labels: "", fields: "", want: ["a", "b", "c", "d", "e"]),
        SelectorCase(namespace: nil, labels: "team=red", fields: "", want: ["a", "c", "e"]),
        SelectorCase(namespace: "batch", labels: "team!=red", fields: "", want: ["b", "d"]),
        SelectorCase(namespace: nil, labels: "team in (blue, green)", fields: "", want: ["b", "d"]),
        SelectorCase(namespace: nil, labels: "team notin (red),team", fields: "", want: ["b", "d"]),
        SelectorCase(namespace: nil, labels: "!team", fields: "", want: []),
        SelectorCase(namespace: nil, labels: "", fields: "metadata.name=c", want: ["c"]),
        SelectorCase(namespace: nil, labels: "team=red", fields: "metadata.namespace!=batch", want: ["e"]),
        SelectorCase(namespace: nil, labels: "", fields: "metadata.namespace==other,metadata.name=e", want: ["e"]),
    ]

    @Test("lists filter by namespace, label selector and field selector", arguments: selectorCases)
    func selectors(_ testCase: SelectorCase) throws {
        let store = try Self.populated()
        let options = ListOptions(labelSelector: try LabelSelector(parsing: testCase.labels), fieldSelector: try FieldSelector(parsing: testCase.fields))
        let names = try store.list(.jobs, namespace: testCase.namespace, options: options).items.compactMap { $0.at("metadata.name")?.stringValue }
        #expect(names == testCase.want)
    }

    @Test("a malformed label selector is 400", arguments: ["team in red", "=x", "a b"])
    func badSelector(_ text: String) {
        let error = #expect(throws: StoreError.self) { try LabelSelector(parsing: text) }
        #expect(error?.code == 400)
    }

    @Test("limit and continue page through every object exactly once", arguments: [1, 2, 3, 5, 10])
    func paging(_ limit: Int) throws {
        let store = try Self.populated()
        var names: [String] = []
        var token: String?
        var pages = 0
        repeat {
            let page = try store.list(.jobs, namespace: nil, options: ListOptions(limit: limit, continueToken: token))
            names += page.items.compactMap { $0.at("metadata.name")?.stringValue }
            token = page.continueToken
            pages += 1
            if token != nil { #expect(page.remainingItemCount == 5 - names.count) }
        } while token != nil
        #expect(names == ["a", "b", "c", "d", "e"])
        #expect(pages == (5 + limit - 1) / limit)
    }

    @Test("a continue token from before a compaction is 410 Expired")
    func continueAfterCompaction() throws {
        var store = try Self.populated()
        let page = try store.list(.jobs, namespace: nil, options: ListOptions(limit: 2))
        try store.create(JobFixture.plain(name: "f").raw, type: .jobs, namespace: "batch", now: epoch)
        store.compactHistory()
        let error = try #require(throws: StoreError.self) {
            try store.list(.jobs, namespace: nil, options: ListOptions(limit: 2, continueToken: page.continueToken))
        }
        #expect(error.code == 410)
        #expect(error.status.reason == "Expired")
    }

    @Test("a watch without resourceVersion starts with ADDED for every object; with one, it replays the history after it")
    func backlog() throws {
        var store = try Self.populated()
        let initial = try store.watchBacklog(.jobs, namespace: "batch", since: nil)
        #expect(initial.map(\.type) == Array(repeating: .added, count: 4))
        let version = store.resourceVersion
        try store.patch(patchData(#"{"metadata":{"labels":{"x":"1"}}}"#), format: .merge, type: .jobs, namespace: "batch", name: "a", now: epoch)
        try store.delete(.jobs, namespace: "batch", name: "b", now: epoch)
        try store.create(["metadata": ["name": "unrelated"]], type: .leases, namespace: "batch", now: epoch)
        let replay = try store.watchBacklog(.jobs, namespace: nil, since: version)
        #expect(replay.map(\.type) == [.modified, .deleted])
        #expect(replay.map(\.name.name) == ["a", "b"])
        #expect(replay[1].object.at("metadata.resourceVersion") == .string(String(replay[1].resourceVersion)))
    }

    struct CompactionCase: Sendable, CustomStringConvertible {
        var description: String
        var capacity: Int
        var writes: Int
        var resumeFromFirst: Bool
        var wantGone: Bool
    }

    static let compactionCases: [CompactionCase] = [
        CompactionCase(description: "history holds the writes", capacity: 100, writes: 10, resumeFromFirst: true, wantGone: false),
        CompactionCase(description: "history overflowed", capacity: 4, writes: 20, resumeFromFirst: true, wantGone: true),
        CompactionCase(description: "recent version survives overflow", capacity: 4, writes: 20, resumeFromFirst: false, wantGone: false),
    ]

    @Test("the history ring compacts, and resuming from a compacted resourceVersion is 410", arguments: compactionCases)
    func compaction(_ testCase: CompactionCase) throws {
        var store = try makeStore(historyCapacity: testCase.capacity)
        let first = store.resourceVersion
        try store.create(["metadata": ["name": "l"], "spec": ["holderIdentity": "0"]], type: .leases, namespace: "batch", now: epoch)
        for index in 1..<testCase.writes {
            try store.patch(patchData(#"{"spec":{"holderIdentity":"\#(index)"}}"#), format: .merge, type: .leases, namespace: "batch", name: "l", now: epoch)
        }
        let since = testCase.resumeFromFirst ? first : store.resourceVersion - 1
        if testCase.wantGone {
            let error = try #require(throws: StoreError.self) { try store.watchBacklog(.leases, namespace: "batch", since: since) }
            #expect(error.code == 410)
        } else {
            let backlog = try store.watchBacklog(.leases, namespace: "batch", since: since)
            #expect(backlog.count == Int(store.resourceVersion - since))
        }
    }

    @Test("a snapshot restores every object, the resourceVersion and the CRD types")
    func snapshotRoundTrip() throws {
        var store = try Self.populated()
        try store.create(policyDefinition, type: .customResourceDefinitions, namespace: nil, now: epoch)
        let data = try JSONEncoder().encode(store.snapshot)
        let restored = DevAPIStore(restoring: try JSONDecoder().decode(DevAPIStore.Snapshot.self, from: data))
        #expect(restored.resourceVersion == store.resourceVersion)
        #expect(try restored.list(.jobs, namespace: nil).items == store.list(.jobs, namespace: nil).items)
        #expect(restored.type(group: "carbon-aware.io", version: "v1alpha1", resource: "carbonawarepolicies") != nil)
        #expect(throws: StoreError.self) { try restored.watchBacklog(.jobs, namespace: nil, since: store.resourceVersion - 1) }
    }

    @Test("strategic merge merges named lists by name, honours $patch delete and replaces unnamed lists")
    func strategicMerge() {
        let target: JSONValue = ["containers": [["name": "a", "image": "x"], ["name": "b", "image": "y"]], "args": ["1", "2"]]
        let patch: JSONValue = ["containers": [["name": "b", "image": "z"], ["name": "a", "$patch": "delete"], ["name": "c", "image": "w"]], "args": ["3"], "$setElementOrder/containers": [["name": "c"], ["name": "b"]]]
        let merged = StrategicMerge.apply(patch, to: target)
        #expect(merged["containers"] == [["name": "c", "image": "w"], ["name": "b", "image": "z"]])
        #expect(merged["args"] == ["3"])
    }
}
