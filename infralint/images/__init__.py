"""What container images declare: public images infralint knows (known.yaml) and images built
from a Dockerfile in the scan (read, never run), and the healthcheck answer rules share."""
