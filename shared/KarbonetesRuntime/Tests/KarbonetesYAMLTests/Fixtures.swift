/// Inputs shaped like the files Karbonetes reads: a kind-style kubeconfig (certificate data
/// shortened) and a manifest with a carbon-aware Job.
enum Fixtures {
    static let kubeconfig = """
        apiVersion: v1
        clusters:
        - cluster:
            certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMvakNDQWVhZ0F3SUJBZ0lCQURBTkJna3Foa2lHOXcwQkFRc0ZBREFWTVJNd0VRWURWUVFERXdwcmRXSmwKY201bGRHVnpNQjRYRFRJMk1USXdNekl4TURBd01Gb1hEVE0yTVRJd01USXhNREF3TUZvd0ZURVRNQkVHQTFVRQo=
            server: https://127.0.0.1:40123
          name: kind-karbonetes
        - cluster:
            insecure-skip-tls-verify: true
            server: https://10.0.0.1:6443
          name: lab
        contexts:
        - context:
            cluster: kind-karbonetes
            namespace: batch
            user: kind-karbonetes
          name: kind-karbonetes
        current-context: kind-karbonetes
        kind: Config
        preferences: {}
        users:
        - name: kind-karbonetes
          user:
            token: "0123456789abcdef"
            client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
        """

    static let manifest = """
        # A namespace and a carbon-aware Job.
        apiVersion: v1
        kind: Namespace
        metadata:
          name: batch
        ---
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: nightly-report
          namespace: batch
          annotations:
            carbon-aware.io/enabled: "true"
            carbon-aware.io/max-delay: 6h
        spec:
          backoffLimit: 3
          template:
            spec:
              restartPolicy: Never
              containers:
                - name: report
                  image: registry.example/report:1.4
                  args: ["--rows", "1000"]
        ---
        ...
        """
}
