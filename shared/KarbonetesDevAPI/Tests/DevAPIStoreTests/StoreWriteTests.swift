import DevAPIStore
import Foundation
import KarbonetesModels
import KarbonetesModelsTestKit
import Testing

@Suite("DevAPIStore writes")
struct StoreWriteTests {
    @Test("create stamps uid, creationTimestamp, generation 1 and a new resourceVersion, and ignores a client's uid")
    func createStampsSystemMetadata() throws {
        var store = try makeStore()
        let before = store.resourceVersion
        let job = try store.create(JobFixture.plain(name: "a").raw, type: .jobs, namespace: "batch", now: epoch)
        #expect(job.at("metadata.resourceVersion") == .string(String(before + 1)))
        #expect(job.at("metadata.generation") == 1)
        #expect(job.at("metadata.creationTimestamp") == .string(RFC3339.format(epoch)))
        #expect(job.at("metadata.uid") != "uid-a")
        #expect(job.at("metadata.uid")?.stringValue?.count == 36)
    }

    @Test("a Job gets the generated selector and the four controller labels on its template")
    func jobSelectorAndLabels() throws {
        var store = try makeStore()
        let job = try store.create(JobFixture.plain(name: "report").raw, type: .jobs, namespace: "batch", now: epoch)
        let uid = try #require(job.at("metadata.uid")?.stringValue)
        #expect(job.at("spec.selector.matchLabels")?["batch.kubernetes.io/controller-uid"] == .string(uid))
        let labels = try #require(job.at("spec.template.metadata.labels"))
        #expect(labels["batch.kubernetes.io/controller-uid"] == .string(uid))
        #expect(labels["controller-uid"] == .string(uid))
        #expect(labels["batch.kubernetes.io/job-name"] == "report")
        #expect(labels["job-name"] == "report")
        #expect(labels["app"] == "report")
        #expect(job.at("metadata.labels") == ["app": "report"])
        #expect(job.at("spec.suspend") == false)
        #expect(job.at("spec.backoffLimit") == 2)
        #expect(job.at("spec.completions") == 1)
    }

    struct CreateFailure: Sendable, CustomStringConvertible {
        var description: String
        var object: JSONValue
        var type: ResourceType
        var namespace: String?
        var wantCode: Int
        var wantMessage: String
    }

    static let createFailureCases: [CreateFailure] = [
        CreateFailure(
            description: "existing name", object: JobFixture.plain(name: "dup").raw, type: .jobs, namespace: "batch",
            wantCode: 409, wantMessage: "jobs.batch \"dup\" already exists"),
        CreateFailure(
            description: "missing namespace", object: JobFixture.plain(name: "x", namespace: "nowhere").raw, type: .jobs,
            namespace: "nowhere", wantCode: 404, wantMessage: "namespaces \"nowhere\" not found"),
        CreateFailure(
            description: "restartPolicy Always",
            object: JobFixture.plain(name: "always").setting(["spec", "template", "spec", "restartPolicy"], "Always").raw,
            type: .jobs, namespace: "batch", wantCode: 422, wantMessage: "spec.template.spec.restartPolicy"),
        CreateFailure(
            description: "no name", object: ["metadata": [:]], type: .leases, namespace: "batch", wantCode: 422,
            wantMessage: "metadata.name"),
        CreateFailure(
            description: "upper-case name", object: ["metadata": ["name": "Bad"]], type: .leases, namespace: "batch",
            wantCode: 422, wantMessage: "RFC 1123"),
        CreateFailure(
            description: "wrong kind", object: ["kind": "CronJob", "metadata": ["name": "k"]], type: .jobs, namespace: "batch",
            wantCode: 400, wantMessage: "does not match"),
        CreateFailure(
            description: "CRD named other than plural.group",
            object: policyDefinition.setting(["metadata", "name"], "policies.example.com"),
            type: .customResourceDefinitions, namespace: nil, wantCode: 422, wantMessage: "spec.names.plural"),
    ]

    @Test("create is refused with the real server's status", arguments: createFailureCases)
    func createFailures(_ testCase: CreateFailure) throws {
        var store = try makeStore()
        try store.create(JobFixture.plain(name: "dup").raw, type: .jobs, namespace: "batch", now: epoch)
        let error = try #require(throws: StoreError.self) {
            try store.create(testCase.object, type: testCase.type, namespace: testCase.namespace, now: epoch)
        }
        #expect(error.code == testCase.wantCode)
        #expect(error.description.contains(testCase.wantMessage), "\(error.description)")
    }

    struct UpdateCase: Sendable, CustomStringConvertible {
        var description: String
        var change: @Sendable (JSONValue) -> JSONValue
        var staleResourceVersion: Bool = false
        var wantCode: Int?
        var wantGenerationBump: Bool = false
        var wantNoWrite: Bool = false
    }

    static let updateCases: [UpdateCase] = [
        UpdateCase(description: "stale resourceVersion", change: { $0 }, staleResourceVersion: true, wantCode: 409),
        UpdateCase(description: "label change keeps generation", change: { $0.setting(["metadata", "labels", "x"], "y") }),
        UpdateCase(description: "spec change bumps generation", change: { $0.setting(["spec", "parallelism"], 3) }, wantGenerationBump: true),
        UpdateCase(description: "identical object writes nothing", change: { $0 }, wantNoWrite: true),
        UpdateCase(description: "status through the main resource is ignored", change: { $0.setting(["status", "active"], 1) }, wantNoWrite: true),
        UpdateCase(
            description: "template image change is immutable",
            change: { $0.setting(["spec", "template", "spec", "containers"], [["name": "main", "image": "alpine"]]) }, wantCode: 422),
    ]

    @Test("update enforces resourceVersion, generation and the status subresource", arguments: updateCases)
    func update(_ testCase: UpdateCase) throws {
        var store = try makeStore()
        let created = try store.create(JobFixture.plain(name: "u").raw, type: .jobs, namespace: "batch", now: epoch)
        var body = testCase.change(created)
        if testCase.staleResourceVersion { body = body.setting(["metadata", "resourceVersion"], "1") }
        let versionBefore = store.resourceVersion
        if let wantCode = testCase.wantCode {
            let error = try #require(throws: StoreError.self) {
                try store.update(body, type: .jobs, namespace: "batch", name: "u", now: epoch)
            }
            #expect(error.code == wantCode)
            return
        }
        let updated = try store.update(body, type: .jobs, namespace: "batch", name: "u", now: epoch)
        #expect(updated.at("metadata.generation") == (testCase.wantGenerationBump ? 2 : 1))
        #expect(store.resourceVersion == (testCase.wantNoWrite ? versionBefore : versionBefore + 1))
        #expect(updated.at("status") == .object([:]))
    }

    struct TemplateCase: Sendable, CustomStringConvertible {
        var description: String
        var suspended: Bool
        var started: Bool
        var path: [String]
        var value: JSONValue
        var wantAllowed: Bool
    }

    static let templateCases: [TemplateCase] = [
        TemplateCase(description: "nodeSelector while suspended", suspended: true, started: false, path: ["spec", "nodeSelector"], value: ["karpenter.sh/nodepool": "green-batch"], wantAllowed: true),
        TemplateCase(description: "tolerations while suspended", suspended: true, started: false, path: ["spec", "tolerations"], value: [["key": "carbon", "operator": "Exists"]], wantAllowed: true),
        TemplateCase(description: "node affinity while suspended", suspended: true, started: false, path: ["spec", "affinity", "nodeAffinity"], value: ["requiredDuringSchedulingIgnoredDuringExecution": [:]], wantAllowed: true),
        TemplateCase(description: "template annotation while suspended", suspended: true, started: false, path: ["metadata", "annotations", "a"], value: "b", wantAllowed: true),
        TemplateCase(description: "pod affinity while suspended", suspended: true, started: false, path: ["spec", "affinity", "podAffinity"], value: [:], wantAllowed: false),
        TemplateCase(description: "nodeSelector on a running Job", suspended: false, started: false, path: ["spec", "nodeSelector"], value: ["a": "b"], wantAllowed: false),
        TemplateCase(description: "nodeSelector on a suspended Job that started before", suspended: true, started: true, path: ["spec", "nodeSelector"], value: ["a": "b"], wantAllowed: false),
        TemplateCase(description: "containers while suspended", suspended: true, started: false, path: ["spec", "containers"], value: [], wantAllowed: false),
    ]

    @Test("spec.template changes only in the scheduling fields, and only while suspended and never started", arguments: templateCases)
    func templateMutability(_ testCase: TemplateCase) throws {
        var store = try makeStore()
        try store.create(JobFixture.plain(name: "t").suspended(testCase.suspended).raw, type: .jobs, namespace: "batch", now: epoch)
        if testCase.started {
            try store.patch(patchData(#"{"status":{"startTime":"2026-12-03T10:00:00Z"}}"#), format: .merge, type: .jobs, namespace: "batch", name: "t", statusOnly: true, now: epoch)
        }
        let current = try store.get(.jobs, namespace: "batch", name: "t")
        let changed = current.setting(["spec", "template"] + testCase.path, testCase.value)
        if testCase.wantAllowed {
            let updated = try store.update(changed, type: .jobs, namespace: "batch", name: "t", now: epoch)
            #expect(updated.at("spec.template") == changed.at("spec.template"))
        } else {
            let error = try #require(throws: StoreError.self) {
                try store.update(changed, type: .jobs, namespace: "batch", name: "t", now: epoch)
            }
            #expect(error.code == 422)
            #expect(error.status.details?.causes?.first?.field?.hasPrefix("spec.template") == true, "\(error)")
        }
    }

    struct PatchCase: Sendable, CustomStringConvertible {
        var description: String
        var format: PatchFormat
        var body: String
        var statusOnly: Bool = false
        var wantCode: Int?
        var check: @Sendable (JSONValue) -> Bool = { _ in true }
    }

    static let patchCases: [PatchCase] = [
        PatchCase(description: "merge patch sets an annotation", format: .merge, body: #"{"metadata":{"annotations":{"carbon-aware.io/state":"held"}}}"#, check: { $0.at("metadata.annotations")?["carbon-aware.io/state"] == "held" }),
        PatchCase(description: "merge patch null deletes a label", format: .merge, body: #"{"metadata":{"labels":{"app":null}}}"#, check: { $0.at("metadata.labels")?["app"] == nil }),
        PatchCase(description: "JSON patch with a passing test op", format: .json, body: #"[{"op":"test","path":"/spec/suspend","value":false},{"op":"replace","path":"/spec/parallelism","value":2}]"#, check: { $0.at("spec.parallelism") == 2 && $0.at("metadata.generation") == 2 }),
        PatchCase(description: "JSON patch with a failing test op is 422", format: .json, body: #"[{"op":"test","path":"/spec/suspend","value":true},{"op":"replace","path":"/spec/suspend","value":false}]"#, wantCode: 422),
        PatchCase(description: "JSON patch on a missing path is 422", format: .json, body: #"[{"op":"replace","path":"/spec/nothing/here","value":1}]"#, wantCode: 422),
        PatchCase(description: "patch carrying a stale resourceVersion is 409", format: .merge, body: #"{"metadata":{"resourceVersion":"2"},"spec":{"parallelism":2}}"#, wantCode: 409),
        PatchCase(description: "status patch sets status and nothing else", format: .merge, body: #"{"spec":{"parallelism":5},"status":{"active":1}}"#, statusOnly: true, check: { $0.at("status.active") == 1 && $0.at("spec.parallelism") == 1 }),
        PatchCase(description: "strategic merge of a container change is still immutable", format: .strategicMerge, body: #"{"spec":{"suspend":true,"template":{"spec":{"$setElementOrder/containers":[{"name":"main"}],"containers":[{"name":"main","env":[{"name":"A","value":"1"}]}]}}}}"#, wantCode: 422),
        PatchCase(description: "strategic merge sets suspend and keeps containers", format: .strategicMerge, body: #"{"spec":{"suspend":true},"metadata":{"labels":{"team":"x"}}}"#, check: { $0.at("spec.suspend") == true && $0.at("spec.template.spec.containers")?.arrayValue?.first?["image"] == "busybox:1.36" }),
        PatchCase(description: "invalid JSON is 400", format: .merge, body: "{", wantCode: 400),
    ]

    @Test("patches: merge, JSON (with test ops), strategic, status", arguments: patchCases)
    func patch(_ testCase: PatchCase) throws {
        var store = try makeStore()
        try store.create(JobFixture.plain(name: "p").raw, type: .jobs, namespace: "batch", now: epoch)
        if let wantCode = testCase.wantCode {
            let error = try #require(throws: StoreError.self) {
                try store.patch(patchData(testCase.body), format: testCase.format, type: .jobs, namespace: "batch", name: "p", statusOnly: testCase.statusOnly, now: epoch)
            }
            #expect(error.code == wantCode, "\(error)")
            return
        }
        let patched = try store.patch(patchData(testCase.body), format: testCase.format, type: .jobs, namespace: "batch", name: "p", statusOnly: testCase.statusOnly, now: epoch)
        #expect(testCase.check(patched), "\(patched)")
    }

    @Test("delete with finalizers marks the object, and removing the last finalizer deletes it")
    func finalizers() throws {
        var store = try makeStore()
        try store.create(["metadata": ["name": "held", "finalizers": ["example.com/keep"]]], type: .leases, namespace: "batch", now: epoch)
        let marked = try store.delete(.leases, namespace: "batch", name: "held", now: epoch)
        #expect(marked.at("metadata.deletionTimestamp") != nil)
        #expect((try? store.get(.leases, namespace: "batch", name: "held")) != nil)
        try store.patch(patchData(#"{"metadata":{"finalizers":null}}"#), format: .merge, type: .leases, namespace: "batch", name: "held", now: epoch)
        #expect(throws: StoreError.self) { try store.get(.leases, namespace: "batch", name: "held") }
    }

    @Test("delete preconditions on uid and resourceVersion are 409 when they do not match")
    func deletePreconditions() throws {
        var store = try makeStore()
        try store.create(["metadata": ["name": "l"]], type: .leases, namespace: "batch", now: epoch)
        let error = try #require(throws: StoreError.self) {
            try store.delete(.leases, namespace: "batch", name: "l", options: DeleteOptions(uid: "other"), now: epoch)
        }
        #expect(error.code == 409)
        let staleVersion = try #require(throws: StoreError.self) {
            try store.delete(.leases, namespace: "batch", name: "l", options: DeleteOptions(resourceVersion: "1"), now: epoch)
        }
        #expect(staleVersion.code == 409)
        try store.delete(.leases, namespace: "batch", name: "l", now: epoch)
        #expect(throws: StoreError.self) { try store.get(.leases, namespace: "batch", name: "l") }
    }

    @Test("deleting a CronJob in the background deletes the Jobs it owns; deleting a namespace deletes its objects")
    func cascades() throws {
        var store = try makeStore()
        let cronJob = try store.create(
            ["metadata": ["name": "nightly"], "spec": ["schedule": "0 2 * * *", "jobTemplate": ["spec": JobFixture.plain().raw["spec"]!]]],
            type: .cronJobs, namespace: "batch", now: epoch)
        let owner: JSONValue = [["apiVersion": "batch/v1", "kind": "CronJob", "name": "nightly", "uid": cronJob.at("metadata.uid")!, "controller": true]]
        try store.create(JobFixture.plain(name: "nightly-1").setting(["metadata", "ownerReferences"], owner).raw, type: .jobs, namespace: "batch", now: epoch)
        try store.create(JobFixture.plain(name: "other").raw, type: .jobs, namespace: "batch", now: epoch)
        try store.delete(.cronJobs, namespace: "batch", name: "nightly", options: DeleteOptions(propagationPolicy: "Background"), now: epoch)
        #expect(try store.list(.jobs, namespace: "batch").items.compactMap { $0.at("metadata.name")?.stringValue } == ["other"])
        try store.delete(.namespaces, namespace: nil, name: "batch", now: epoch)
        #expect(try store.list(.jobs, namespace: nil).items.isEmpty)
    }

    @Test("a CRD serves its custom resources with a status subresource, until it is deleted")
    func customResources() throws {
        var store = try makeStore()
        let definition = try store.create(policyDefinition, type: .customResourceDefinitions, namespace: nil, now: epoch)
        #expect(definition.at("status.conditions")?.arrayValue?.contains { $0["type"] == "Established" && $0["status"] == "True" } == true)
        let type = try #require(store.type(group: "carbon-aware.io", version: "v1alpha1", resource: "carbonawarepolicies"))
        #expect(type.hasStatusSubresource && type.namespaced && type.kind == "CarbonAwarePolicy")
        try store.create(
            ["apiVersion": "carbon-aware.io/v1alpha1", "kind": "CarbonAwarePolicy", "metadata": ["name": "default"], "spec": ["maxDelay": "6h"], "status": ["ready": true]],
            type: type, namespace: "batch", now: epoch)
        let created = try store.get(type, namespace: "batch", name: "default")
        #expect(created.at("status") == nil)
        let withStatus = try store.patch(patchData(#"{"status":{"observedGeneration":1}}"#), format: .merge, type: type, namespace: "batch", name: "default", statusOnly: true, now: epoch)
        #expect(withStatus.at("status.observedGeneration") == 1)
        try store.delete(.customResourceDefinitions, namespace: nil, name: "carbonawarepolicies.carbon-aware.io", now: epoch)
        #expect(store.type(group: "carbon-aware.io", version: "v1alpha1", resource: "carbonawarepolicies") == nil)
    }
}

extension JSONValue {
    func setting(_ path: [String], _ value: JSONValue) -> JSONValue {
        guard let first = path.first else { return value }
        var members = objectValue ?? [:]
        members[first] = (members[first] ?? .object([:])).setting(Array(path.dropFirst()), value)
        return .object(members)
    }
}
