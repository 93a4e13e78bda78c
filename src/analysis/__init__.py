"""Veerkrachtige Buurten Zwijndrecht: data, veerkrachtindex, doelprognoses en factsheets."""

__version__ = "0.1.0"
