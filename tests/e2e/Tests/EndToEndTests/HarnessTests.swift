import Foundation
import KarbonetesModels
import Testing

@testable import EndToEndKit

#if canImport(Glibc)
    import Glibc
#endif

/// The harness itself, without the binaries: if these are wrong, a scenario could pass
/// without checking anything, or leave processes behind.
@Suite("The end-to-end harness")
struct HarnessTests {
    static func logDirectory() -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "karbonetes-e2e-harness-\(UUID().uuidString)"
        ).path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    struct ExitCase: Sendable, CustomTestStringConvertible {
        var script: String
        var signal: Int32?
        var wantCode: Int32
        var testDescription: String { script }
    }

    @Test(
        "a child's exit code is read back, 128 + the signal when a signal ended it",
        arguments: [
            ExitCase(script: "exit 0", signal: nil, wantCode: 0),
            ExitCase(script: "exit 3", signal: nil, wantCode: 3),
            ExitCase(script: "sleep 30", signal: SIGKILL, wantCode: 128 + SIGKILL),
            ExitCase(script: "trap 'exit 0' TERM; sleep 30 & wait", signal: SIGTERM, wantCode: 0),
        ])
    func exitCodes(_ exitCase: ExitCase) async throws {
        let child = try ChildProcess(
            name: "sh", executable: "/bin/sh", arguments: ["-c", exitCase.script], logDirectory: Self.logDirectory())
        if let signal = exitCase.signal {
            try await Task.sleep(for: .milliseconds(200))
            child.send(signal)
        }
        #expect(try await child.waitForExit(timeout: .seconds(10)) == exitCase.wantCode)
    }

    @Test("dropping a ChildProcess kills its whole process group, grandchildren included")
    func noOrphans() async throws {
        let directory = Self.logDirectory()
        var child: ChildProcess? = try ChildProcess(
            name: "parent", executable: "/bin/sh", arguments: ["-c", "sleep 300 & echo $! ; wait"],
            logDirectory: directory)
        let grandchild = try await Eventually.value("the grandchild's pid", timeout: .seconds(5)) {
            child?.standardOutput.split(separator: "\n").first.flatMap { pid_t($0) }
        }
        #expect(kill(grandchild, 0) == 0)
        child = nil
        try await Eventually.check("the grandchild to be gone", timeout: .seconds(5)) {
            kill(grandchild, 0) != 0 || Self.isZombie(grandchild)
        }
        #expect(child == nil)
    }

    /// A killed grandchild whose parent died is reaped by init; until then it shows as `Z`.
    static func isZombie(_ pid: pid_t) -> Bool {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return status.split(separator: " ").dropFirst(2).first == "Z"
    }

    @Test("a child writes its stdout and stderr to files named after it")
    func outputFiles() async throws {
        let child = try ChildProcess(
            name: "talker", executable: "/bin/sh", arguments: ["-c", "echo out; echo err >&2"],
            logDirectory: Self.logDirectory())
        _ = try await child.waitForExit(timeout: .seconds(5))
        #expect(child.standardOutput == "out\n")
        #expect(child.standardError == "err\n")
        #expect(child.stdoutFile.hasSuffix("/talker.stdout.log"))
    }

    @Test("a missing executable fails with a message that says how to build it")
    func missingExecutable() throws {
        #expect {
            _ = try ChildProcess(
                name: "ghost", executable: "/nonexistent/karbonetes-ghost", arguments: [],
                logDirectory: Self.logDirectory())
        } throws: { error in
            "\(error)".contains("make test-e2e")
        }
    }

    @Test("a free port is a loopback port nothing listens on")
    func freePort() throws {
        let port = try FreePort.next()
        #expect((1024...65535).contains(port))
    }

    struct MetricCase: Sendable {
        var name: String
        var want: Double
    }

    @Test(
        "a metric is read as the sum of its series, 0 when absent",
        arguments: [
            MetricCase(name: "karbonetes_controller_releases_total", want: 5),
            MetricCase(name: "karbonetes_controller_is_leader", want: 1),
            MetricCase(name: "karbonetes_controller_held_jobs", want: 0),
        ])
    func prometheusText(_ metricCase: MetricCase) {
        let text = """
            # HELP karbonetes_controller_releases_total Releases.
            # TYPE karbonetes_controller_releases_total counter
            karbonetes_controller_releases_total{pool="green-batch",reason="green-window"} 3
            karbonetes_controller_releases_total{pool="default",reason="max-delay"} 2
            karbonetes_controller_releases_total_extra 40
            karbonetes_controller_is_leader 1
            """
        #expect(PrometheusText.sum(metricCase.name, in: text) == metricCase.want)
    }

    @Test("the pools a Job was steered to are read from preferred and required node affinity on karpenter.sh/nodepool")
    func steeredPools() {
        let expression: JSONValue = ["key": "karpenter.sh/nodepool", "operator": "In", "values": ["green-batch"]]
        let other: JSONValue = ["key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]]
        let preferred = JSONValue.object([:]).setting(
            [
                "spec", "template", "spec", "affinity", "nodeAffinity",
                "preferredDuringSchedulingIgnoredDuringExecution",
            ],
            to: [["weight": 100, "preference": ["matchExpressions": [other, expression]]]])
        #expect(preferred.preferredNodePools == ["green-batch"])
        #expect(preferred.requiredNodePools.isEmpty)
        #expect(preferred.steeredPool == "green-batch")
        let required = JSONValue.object([:]).setting(
            ["spec", "template", "spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"],
            to: ["nodeSelectorTerms": [["matchExpressions": [expression]]]])
        #expect(required.requiredNodePools == ["green-batch"])
        #expect(required.preferredNodePools.isEmpty)
        #expect(JSONValue.object([:]).steeredPool == nil)
    }

    static func job(state: CarbonState?, releasedAt: String?, suspended: Bool) -> JSONValue {
        var job: JSONValue = ["metadata": ["name": "j"], "spec": ["suspend": .bool(suspended)]]
        if let state { job = job.settingAnnotation(CarbonAnnotations.state, state.rawValue) }
        if let releasedAt { job = job.settingAnnotation(CarbonAnnotations.releasedAt, releasedAt) }
        return job
    }

    struct HistoryCase: Sendable, CustomTestStringConvertible {
        var name: String
        var versions: [(CarbonState?, String?, Bool)]
        var wantWrites: Int
        var testDescription: String { name }
    }

    @Test(
        "release writes are counted from held to released and from one released-at to another",
        arguments: [
            HistoryCase(
                name: "held, then released once", versions: [(.deferred, nil, true), (.released, "t1", false)],
                wantWrites: 1),
            HistoryCase(
                name: "released, then a status write",
                versions: [(.deferred, nil, true), (.released, "t1", false), (.released, "t1", false)],
                wantWrites: 1),
            HistoryCase(
                name: "released twice",
                versions: [(.deferred, nil, true), (.released, "t1", false), (.released, "t2", false)], wantWrites: 2),
            HistoryCase(
                name: "never released", versions: [(.deferred, nil, true), (.deferred, nil, true)], wantWrites: 0),
            HistoryCase(name: "first seen released", versions: [(.released, "t1", false)], wantWrites: 0),
        ])
    func releaseWrites(_ historyCase: HistoryCase) {
        let history = JobHistory()
        for (state, releasedAt, suspended) in historyCase.versions {
            history.record(type: "MODIFIED", Self.job(state: state, releasedAt: releasedAt, suspended: suspended))
        }
        #expect(history.releaseWrites(of: "j") == historyCase.wantWrites)
    }

    @Test("the executables are the packages' debug builds, or the ones in KARBONETES_E2E_BIN_DIR")
    func executablePaths() {
        #expect(
            Repository.executable(.webhook, environment: [:])
                == Repository.path("services/webhook/.build/debug/karbonetes-webhook"))
        #expect(
            Repository.executable(.controller, environment: ["KARBONETES_E2E_BIN_DIR": "/opt/k/bin"])
                == "/opt/k/bin/karbonetes-controller")
        #expect(FileManager.default.fileExists(atPath: Repository.path("samples/job-carbon-aware.yaml")))
    }

    @Test("envtest is chosen by KARBONETES_E2E_APISERVER, and needs etcd and kube-apiserver in KUBEBUILDER_ASSETS")
    func envtestSelection() throws {
        #expect(APIServerKind.fromEnvironment([:]) == .devapi)
        #expect(APIServerKind.fromEnvironment(["KARBONETES_E2E_APISERVER": "envtest"]) == .envtest)
        #expect(EnvtestUnderTest.assets([:]) == nil)
        let folder = Self.logDirectory()
        #expect(EnvtestUnderTest.assets(["KUBEBUILDER_ASSETS": folder]) == nil)
        for tool in ["etcd", "kube-apiserver"] {
            #expect(
                FileManager.default.createFile(
                    atPath: "\(folder)/\(tool)", contents: Data("#!/bin/sh\n".utf8),
                    attributes: [.posixPermissions: 0o755]))
        }
        #expect(EnvtestUnderTest.assets(["KUBEBUILDER_ASSETS": folder]) == folder)
    }

    @Test("make-certs.sh makes a CA and a 127.0.0.1 serving certificate that openssl verifies against it")
    func certificates() async throws {
        let directory = Self.logDirectory()
        let certificates = try await ServingCertificates.make(in: directory + "/certs")
        try await Shell.run(
            "openssl", ["verify", "-CAfile", certificates.caCertificateFile, certificates.certificateFile],
            logDirectory: directory, name: "verify")
        try await Shell.run(
            "openssl", ["x509", "-in", certificates.certificateFile, "-noout", "-checkip", "127.0.0.1"],
            logDirectory: directory, name: "checkip")
        let checked = try String(contentsOfFile: directory + "/checkip.stdout.log", encoding: .utf8)
        #expect(checked.contains("does match"))
        #expect(String(decoding: certificates.caCertificatePEM, as: UTF8.self).hasPrefix("-----BEGIN CERTIFICATE-----"))
    }
}
