"""placeholder"""
SPECS = ()
