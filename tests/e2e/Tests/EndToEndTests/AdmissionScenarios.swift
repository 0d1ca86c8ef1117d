import EndToEndKit
import Foundation
import KarbonetesModels
import Testing

/// What the webhook does to Jobs as the API server stores them: the real
/// `karbonetes-webhook` behind the API server's admission chain over HTTPS, the real
/// `karbonetes-signal` with its demo override deciding green or not.
extension EndToEnd {
    @Suite("Admission through the real webhook")
    struct AdmissionScenarios {
        static let greenPool = BuiltInDefaults.greenPool.name
        static let greenTaint = BuiltInDefaults.greenPoolTaint.key

        @Test("a Job without the carbon-aware annotation is stored as submitted: no suspend, no pool, no annotations")
        func plainJobUntouched() async throws {
            try await EndToEndStack.run("plain-job") { stack in
                try await stack.prepareNamespace("e2e")
                try await stack.startServices(controller: false)
                try await stack.setGreen(false)
                let submitted = try EndToEndStack.plainJob("plain", namespace: "e2e")
                let stored = try await stack.api.create(submitted)
                #expect(!stored.isSuspended)
                #expect(stored.podSpec?["affinity"] == nil)
                #expect(stored.podSpec?["tolerations"] == nil)
                #expect(stored.podSpec?["containers"] == submitted.podSpec?["containers"])
                let carbonKeys = (stored["metadata"]?["annotations"]?.objectValue ?? [:]).keys.filter {
                    $0.hasPrefix(CarbonAnnotations.prefix)
                }
                #expect(carbonKeys.isEmpty)
                #expect(stored.label(CarbonAnnotations.managedLabel) == nil)
            }
        }

        struct PoolCase: Sendable, CustomTestStringConvertible {
            var sample: String
            var wantPreferred: [String]
            var wantRequired: [String]
            var testDescription: String { sample }
        }

        @Test(
            "at green, a carbon-aware Job runs now, steered to the green pool (preferred, or required in strict mode) with its toleration",
            arguments: [
                PoolCase(sample: "job-carbon-aware", wantPreferred: [greenPool], wantRequired: []),
                PoolCase(sample: "job-carbon-aware-strict", wantPreferred: [], wantRequired: [greenPool]),
            ])
        func greenAdmission(_ poolCase: PoolCase) async throws {
            try await EndToEndStack.run("green-\(poolCase.sample)") { stack in
                try await stack.prepareNamespace("e2e")
                try await stack.startServices(controller: false)
                try await stack.setGreen(true)
                let sample = try EndToEndStack.manifest("samples/\(poolCase.sample).yaml").settingName(
                    "green", namespace: "e2e")
                let stored = try await stack.api.create(sample)
                #expect(!stored.isSuspended)
                #expect(stored.annotation(CarbonAnnotations.state) == CarbonState.admittedGreen.rawValue)
                #expect(stored.annotation(CarbonAnnotations.intensityAtDecision) == "90")
                #expect(stored.preferredNodePools == poolCase.wantPreferred)
                #expect(stored.requiredNodePools == poolCase.wantRequired)
                #expect(stored.tolerationKeys == [Self.greenTaint])
                #expect(stored.label(CarbonAnnotations.managedLabel) == nil)
                #expect(stored.podSpec?["containers"]?[path: ["0", "name"]] == "work")
            }
        }

        @Test(
            "not green, a carbon-aware Job is held: suspended, labelled managed, state deferred, deadline creation + maxDelay"
        )
        func heldWhenNotGreen() async throws {
            try await EndToEndStack.run("held") { stack in
                try await stack.prepareNamespace("e2e")
                try await stack.startServices(controller: false)
                try await stack.setGreen(false)
                let stored = try await stack.api.create(
                    try EndToEndStack.carbonAwareJob("held", namespace: "e2e", maxDelay: "90s"))
                #expect(stored.isSuspended)
                #expect(stored.label(CarbonAnnotations.managedLabel) == CarbonAnnotations.trueValue)
                #expect(stored.annotation(CarbonAnnotations.state) == CarbonState.deferred.rawValue)
                #expect(stored.annotation(CarbonAnnotations.intensityAtSubmission) == "420")
                #expect(stored.preferredNodePools.isEmpty)
                let created = try #require(stored["metadata"]?["creationTimestamp"]?.stringValue.flatMap(RFC3339.parse))
                let deadline = try #require(stored.annotation(CarbonAnnotations.deadline).flatMap(RFC3339.parse))
                #expect(abs(deadline.timeIntervalSince(created) - 90) <= 1)
            }
        }

        @Test("with the webhook down, failurePolicy Ignore stores the Job unchanged and Fail refuses it")
        func webhookDown() async throws {
            try await EndToEndStack.run("webhook-down") { stack in
                try await stack.prepareNamespace("e2e")
                try await stack.startServices(failurePolicy: "Ignore", controller: false)
                try await stack.setGreen(false)
                try await stack.killWebhook()
                let stored = try await stack.api.create(try EndToEndStack.carbonAwareJob("ignored", namespace: "e2e"))
                #expect(!stored.isSuspended)
                #expect(stored.annotation(CarbonAnnotations.state) == nil)
                #expect(stored.label(CarbonAnnotations.managedLabel) == nil)
                #expect(stored.preferredNodePools.isEmpty)

                try await stack.registerWebhook(failurePolicy: "Fail")
                await #expect(throws: KubeAPIFailure.self) {
                    try await stack.api.create(try EndToEndStack.carbonAwareJob("refused", namespace: "e2e"))
                }
                #expect(try await stack.api.find(.jobs, namespace: "e2e", name: "refused") == nil)
            }
        }

        @Test(
            "a policy change reaches admission: after the namespace's policy names another green pool, new Jobs are steered there"
        )
        func policyChangeReachesAdmission() async throws {
            try await EndToEndStack.run("policy-change-admission") { stack in
                try await stack.prepareNamespace("e2e")
                try await stack.startServices(controller: false)
                try await stack.setGreen(true)
                let before = try await stack.api.create(try EndToEndStack.carbonAwareJob("before", namespace: "e2e"))
                #expect(before.preferredNodePools == [Self.greenPool])

                try await stack.api.mergePatch(
                    .policies, namespace: "e2e", name: "default", ["spec": ["greenPool": ["name": "green-spot"]]])
                // The webhook re-lists policies on its resync period: submit until one lands there.
                var attempt = 0
                let after = try await Eventually.value(
                    "a Job steered to green-spot", timeout: .seconds(30), interval: .seconds(1)
                ) { () async throws -> JSONValue? in
                    attempt += 1
                    let job = try await stack.api.create(
                        try EndToEndStack.carbonAwareJob("after-\(attempt)", namespace: "e2e"))
                    return job.preferredNodePools == ["green-spot"] ? .some(job) : .none
                }
                #expect(after.tolerationKeys == [Self.greenTaint])
            }
        }
    }
}
