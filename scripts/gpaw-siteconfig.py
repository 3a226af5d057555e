# GPAW build configuration used by scripts/setup.sh (read through GPAW_CONFIG).
# ScaLAPACK: GPAW's plane-wave eigensolvers distribute their subspace matrices over MPI ranks with
# BLACS; a build without it fails as soon as a PW calculation runs on more than one rank.
scalapack = True
libraries = ["xc", "openblas", "scalapack-openmpi"]
