import Foundation
import KarbonetesModels
import KarbonetesModelsTestKit
import Testing

@Suite("Scheduling injection merges with what the Job has")
struct SchedulingInjectionTests {
    let pool = BuiltInDefaults.greenPool

    @Test("existing preferred terms and tolerations are appended to, not replaced")
    func appendsToExisting() throws {
        let fixture = JobFixture.carbonAware()
            .podSpec("tolerations", [["key": "dedicated", "operator": "Equal", "value": "batch", "effect": "NoSchedule"]])
            .podSpec("affinity", ["nodeAffinity": ["preferredDuringSchedulingIgnoredDuringExecution": [["weight": 10, "preference": ["matchExpressions": [["key": "zone", "operator": "In", "values": ["a"]]]]]]]])
        let plan = SchedulingInjection.plan(for: fixture.job, pool: pool, mode: .prefer)
        #expect(plan.operations.map(\.path) == [
            "/spec/template/spec/affinity/nodeAffinity/preferredDuringSchedulingIgnoredDuringExecution/-",
            "/spec/template/spec/tolerations/-",
        ])
        let patched = try JSONPatchApplier.apply(plan.operations, to: fixture.json).decode(as: Job.self)
        #expect(patched.spec?.template?.spec?.tolerations?.count == 2)
        #expect(patched.spec?.template?.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.count == 2)
    }

    @Test("strict mode adds the requirement to every existing required term (terms are ORed)")
    func strictAddsToEveryTerm() throws {
        let fixture = JobFixture.carbonAware().podSpec("affinity", ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": ["nodeSelectorTerms": [
            ["matchExpressions": [["key": "zone", "operator": "In", "values": ["a"]]]],
            ["matchFields": [["key": "metadata.name", "operator": "In", "values": ["n1"]]]],
        ]]]])
        let plan = SchedulingInjection.plan(for: fixture.job, pool: pool, mode: .strict)
        #expect(plan.operations.map(\.path) == [
            "/spec/template/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0/matchExpressions/-",
            "/spec/template/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/1/matchExpressions",
            "/spec/template/spec/tolerations",
        ])
        let patched = try JSONPatchApplier.apply(plan.operations, to: fixture.json).decode(as: Job.self)
        let terms = try #require(patched.spec?.template?.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms)
        #expect(terms.allSatisfy { $0.matchExpressions?.contains(NodeSelectorRequirement(key: "karpenter.sh/nodepool", operator: "In", values: ["green-batch"])) ?? false })
    }

    @Test("a nodeSelector pinning another pool is a conflict: nothing injected")
    func nodeSelectorConflict() {
        let fixture = JobFixture.carbonAware().podSpec("nodeSelector", ["karpenter.sh/nodepool": "gpu"])
        let plan = SchedulingInjection.plan(for: fixture.job, pool: pool, mode: .prefer)
        #expect(plan.operations.isEmpty)
        #expect(!plan.injected)
        #expect(plan.warnings.first?.contains("nodeSelector pins karpenter.sh/nodepool=gpu") == true)
    }

    @Test("a nodeSelector already pinning the pool needs only the toleration")
    func pinnedBySelector() {
        let fixture = JobFixture.carbonAware().podSpec("nodeSelector", ["karpenter.sh/nodepool": "green-batch"])
        let plan = SchedulingInjection.plan(for: fixture.job, pool: pool, mode: .strict)
        #expect(plan.operations.map(\.path) == ["/spec/template/spec/tolerations"])
    }

    @Test("a pool without a taint adds no toleration")
    func noTaintNoToleration() {
        let plan = SchedulingInjection.plan(for: JobFixture.carbonAware().job, pool: BuiltInDefaults.fallbackPool, mode: .prefer)
        #expect(plan.operations.map(\.path) == ["/spec/template/spec/affinity"])
    }

    struct TolerationCase: Sendable, CustomTestStringConvertible {
        var toleration: Toleration
        var want: Bool
        var testDescription: String { "\(toleration) → \(want)" }
    }

    @Test("toleration matching follows Kubernetes", arguments: [
        TolerationCase(toleration: Toleration(key: "carbon-aware.io/green", operator: "Equal", value: "true", effect: "NoSchedule"), want: true),
        TolerationCase(toleration: Toleration(key: "carbon-aware.io/green", operator: "Exists"), want: true),
        TolerationCase(toleration: Toleration(operator: "Exists"), want: true),
        TolerationCase(toleration: Toleration(key: "carbon-aware.io/green", value: "true"), want: true),
        TolerationCase(toleration: Toleration(key: "carbon-aware.io/green", operator: "Equal", value: "false"), want: false),
        TolerationCase(toleration: Toleration(key: "carbon-aware.io/green", operator: "Exists", effect: "NoExecute"), want: false),
        TolerationCase(toleration: Toleration(key: "other", operator: "Exists"), want: false),
    ])
    func tolerationMatching(_ testCase: TolerationCase) {
        #expect(SchedulingInjection.tolerates(testCase.toleration, BuiltInDefaults.greenPoolTaint) == testCase.want)
    }
}
