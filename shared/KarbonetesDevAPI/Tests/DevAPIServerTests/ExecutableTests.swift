import Dispatch
import Foundation
import KarbonetesHTTP
import KarbonetesHTTPClient
import KarbonetesTLS
import Testing

/// Runs a program to completion off the cooperative pool and returns its exit status and
/// output.
func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil) async throws -> (status: Int32, output: String) {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            let stdin = Pipe()
            process.standardInput = stdin
            do {
                try process.run()
                if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
                try? stdin.fileHandleForWriting.close()
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }
}

/// The built `karbonetes-devapi`, next to the test bundle (the test target depends on it).
func devAPIExecutable() -> String {
    let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let candidates = [
        bundleDirectory.appendingPathComponent("karbonetes-devapi").path,
        bundleDirectory.deletingLastPathComponent().appendingPathComponent("karbonetes-devapi").path,
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/karbonetes-devapi").path,
    ]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[2]
}

/// kubectl from the project's install step, else the system's; nil when there is none.
func kubectlExecutable() -> String? {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    let candidates = [root.appendingPathComponent(".tools/bin/kubectl").path, "/usr/local/bin/kubectl", "/usr/bin/kubectl"]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// The server process started for one test: waits for its ready line, stops with SIGTERM.
final class DevAPIProcess: @unchecked Sendable {
    let process = Process()
    let directory: String
    private(set) var url = ""
    private let output = Pipe()

    init(arguments: [String] = []) throws {
        directory = temporaryDirectory()
        process.executableURL = URL(fileURLWithPath: devAPIExecutable())
        process.arguments = ["--listen", "127.0.0.1:0", "--data-dir", directory + "/data", "--kubeconfig-out", directory + "/kubeconfig", "--log-level", "warning"] + arguments
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
    }

    var kubeconfig: String { directory + "/kubeconfig" }

    /// Starts the process and reads its first line: `karbonetes-devapi ready on https://…`.
    func start() async throws -> String {
        try process.run()
        let handle = output.fileHandleForReading
        let line: String = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var bytes = Data()
                while true {
                    let chunk = handle.readData(ofLength: 1)
                    if chunk.isEmpty || chunk.first == UInt8(ascii: "\n") { break }
                    bytes.append(chunk)
                }
                continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
            }
        }
        url = line.components(separatedBy: " ").last ?? ""
        return line
    }

    /// SIGTERM, then the exit status.
    func stop() async -> Int32 {
        process.terminate()
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                self.process.waitUntilExit()
                continuation.resume(returning: self.process.terminationStatus)
            }
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

@Suite("karbonetes-devapi executable and kubectl", .serialized)
struct ExecutableTests {
    @Test("--version prints the VERSION file's version and --help names the flags")
    func versionAndHelp() async throws {
        let versionFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("VERSION")
        let version = try String(contentsOf: versionFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let printed = try await run(devAPIExecutable(), ["--version"])
        #expect(printed.status == 0)
        #expect(printed.output.trimmingCharacters(in: .whitespacesAndNewlines) == "karbonetes-devapi \(version)")
        let help = try await run(devAPIExecutable(), ["--help"])
        for flag in ["--listen", "--data-dir", "--kubeconfig-out", "--job-lifecycle", "--cronjobs", "--log-level"] {
            #expect(help.output.contains(flag), "\(flag) missing from --help")
        }
        let missing = try await run(devAPIExecutable(), [])
        #expect(missing.status == 2)
        #expect(missing.output.contains("--data-dir"))
    }

    @Test("--faults starts the binary with fault rules, and SIGTERM stops it with exit status 0")
    func faultsFlag() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let rules = directory + "/faults.json"
        try Data(#"{"rules":[{"resource":"leases","errorRate":1,"errorCode":503}]}"#.utf8).write(to: URL(fileURLWithPath: rules))
        let server = try DevAPIProcess(arguments: ["--faults", rules])
        defer { server.remove() }
        _ = try await server.start()
        let token = try String(contentsOfFile: server.directory + "/data/token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let ca = try Data(contentsOf: URL(fileURLWithPath: server.directory + "/data/pki/ca.crt"))
        let client = try HTTPClient(configuration: HTTPClientConfiguration(baseURL: URL(string: server.url)!, tls: TLSClientConfiguration(trustRoots: .pem(.data(ca))), authorization: .bearerToken(token)))
        let leases = try await client.send(.get, "/apis/coordination.k8s.io/v1/namespaces/default/leases")
        #expect(leases.status == 503)
        let jobs = try await client.send(.get, "/apis/batch/v1/namespaces/default/jobs")
        #expect(jobs.status == 200)
        await client.shutdown()
        #expect(await server.stop() == 0)
        let bad = try await run(devAPIExecutable(), ["--data-dir", directory, "--faults", directory + "/missing.json"])
        #expect(bad.status == 2 && bad.output.contains("--faults"), "\(bad.output)")
    }

    static let jobManifest = """
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: report
          labels:
            team: data
          annotations:
            carbon-aware.io/enabled: "true"
        spec:
          suspend: true
          template:
            spec:
              restartPolicy: Never
              containers:
              - name: main
                image: busybox:1.36
                command: ["sh", "-c", "echo hi"]
        """

    static let policyManifests = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: carbonawarepolicies.carbon-aware.io
        spec:
          group: carbon-aware.io
          scope: Namespaced
          names: {plural: carbonawarepolicies, singular: carbonawarepolicy, kind: CarbonAwarePolicy, listKind: CarbonAwarePolicyList, shortNames: [cap]}
          versions:
          - name: v1alpha1
            served: true
            storage: true
            subresources: {status: {}}
            schema:
              openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
        """

    @Test("kubectl get, apply, patch and delete work against the running binary, which exits 0 on SIGTERM with its data written")
    func kubectl() async throws {
        guard let kubectlPath = kubectlExecutable() else {
            print("SKIPPED: kubectl not found (.tools/bin/kubectl or /usr/bin/kubectl); run `make install` to get it")
            return
        }
        let server = try DevAPIProcess(arguments: ["--job-lifecycle", "--job-duration", "1s"])
        defer { server.remove() }
        let ready = try await server.start()
        #expect(ready.hasPrefix("karbonetes-devapi ready on https://127.0.0.1:"))
        #expect(!ready.hasSuffix(":0"))
        let environment = ["KUBECONFIG": server.kubeconfig]
        func kubectl(_ arguments: [String], input: String? = nil) async throws -> (status: Int32, output: String) {
            try await run(kubectlPath, arguments + ["--request-timeout=10s"], environment: environment, input: input)
        }
        let namespaces = try await kubectl(["get", "namespaces", "-o", "name"])
        #expect(namespaces.output.contains("namespace/default"), "\(namespaces.output)")
        let namespace = try await kubectl(["create", "namespace", "demo"])
        #expect(namespace.output.contains("namespace/demo created"), "\(namespace.output)")
        let typedJob = try await kubectl(["create", "job", "typed", "--image=busybox"])
        #expect(typedJob.status != 0 && typedJob.output.contains("send Job as JSON"), "\(typedJob.output)")
        let created = try await kubectl(["apply", "-f", "-"], input: Self.jobManifest)
        #expect(created.status == 0, "\(created.output)")
        #expect(created.output.contains("job.batch/report created"))
        let listed = try await kubectl(["get", "jobs"])
        #expect(listed.output.contains("report") && listed.output.contains("Suspended"), "\(listed.output)")
        let reapplied = try await kubectl(["apply", "-f", "-"], input: Self.jobManifest.replacingOccurrences(of: "team: data", with: "team: ml"))
        #expect(reapplied.output.contains("job.batch/report configured"), "\(reapplied.output)")
        let label = try await kubectl(["get", "job", "report", "-o", "jsonpath={.metadata.labels.team}"])
        #expect(label.output == "ml")
        let failedTest = try await kubectl(["patch", "job", "report", "--type=json", "-p", #"[{"op":"test","path":"/spec/suspend","value":false}]"#])
        #expect(failedTest.status != 0)
        #expect(failedTest.output.contains("test of /spec/suspend failed"), "\(failedTest.output)")
        let immutable = try await kubectl(["patch", "job", "report", "--type=merge", "-p", #"{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"alpine"}]}}}}"#])
        #expect(immutable.status != 0)
        #expect(immutable.output.contains("spec.template"), "\(immutable.output)")
        let released = try await kubectl(["patch", "job", "report", "--type=merge", "-p", #"{"spec":{"suspend":false}}"#])
        #expect(released.output.contains("job.batch/report patched"), "\(released.output)")
        var completed = false
        for _ in 0..<40 where !completed {
            try await Task.sleep(for: .milliseconds(250))
            completed = try await kubectl(["get", "job", "report", "-o", "jsonpath={.status.succeeded}"]).output == "1"
        }
        #expect(completed, "the Job lifecycle did not complete the released Job")
        let definition = try await kubectl(["apply", "-f", "-"], input: Self.policyManifests)
        #expect(definition.status == 0, "\(definition.output)")
        let policy = try await kubectl(["apply", "-f", "-"], input: "apiVersion: carbon-aware.io/v1alpha1\nkind: CarbonAwarePolicy\nmetadata:\n  name: default\nspec:\n  maxDelay: 6h\n")
        #expect(policy.output.contains("carbonawarepolicy.carbon-aware.io/default created"), "\(policy.output)")
        let policies = try await kubectl(["get", "cap", "-o", "name"])
        #expect(policies.output.contains("carbonawarepolicy.carbon-aware.io/default"), "\(policies.output)")
        let deleted = try await kubectl(["delete", "job", "report"])
        #expect(deleted.output.contains("job.batch \"report\" deleted"), "\(deleted.output)")
        let missing = try await kubectl(["get", "job", "report"])
        #expect(missing.status != 0 && missing.output.contains("NotFound"), "\(missing.output)")
        #expect(await server.stop() == 0)
        let data = try String(contentsOfFile: server.directory + "/data/devapi-data.json", encoding: .utf8)
        #expect(data.contains("carbonawarepolicies.carbon-aware.io") && !data.contains("\"report\""))
    }
}
